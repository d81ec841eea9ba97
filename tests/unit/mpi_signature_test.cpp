// Unit tests of the Pilgrim function-id table and of call-signature decoding, encoding and formatting,
// including every CST entry of the four real traces in traces/pilgrim.
#include "mpi/functions.hpp"
#include "mpi/signature.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace whatif::mpi {
namespace {

// ------------------------------------------------------------------------------------------------
// Function ids

TEST(MpiFunctions, NamedIdsMatchTheTable) {
  const std::pair<int, std::string_view> expected[] = {
      {fid::testany, "MPI_Testany"},
      {fid::get_count, "MPI_Get_count"},
      {fid::allgather, "MPI_Allgather"},
      {fid::cart_shift, "MPI_Cart_shift"},
      {fid::comm_size, "MPI_Comm_size"},
      {fid::request_free, "MPI_Request_free"},
      {fid::allgatherv, "MPI_Allgatherv"},
      {fid::send, "MPI_Send"},
      {fid::comm_rank, "MPI_Comm_rank"},
      {fid::cancel, "MPI_Cancel"},
      {fid::type_commit, "MPI_Type_commit"},
      {fid::probe, "MPI_Probe"},
      {fid::allreduce, "MPI_Allreduce"},
      {fid::type_contiguous, "MPI_Type_contiguous"},
      {fid::reduce, "MPI_Reduce"},
      {fid::recv_init, "MPI_Recv_init"},
      {fid::wait, "MPI_Wait"},
      {fid::ibcast, "MPI_Ibcast"},
      {fid::send_init, "MPI_Send_init"},
      {fid::gather, "MPI_Gather"},
      {fid::waitall, "MPI_Waitall"},
      {fid::testall, "MPI_Testall"},
      {fid::barrier, "MPI_Barrier"},
      {fid::waitsome, "MPI_Waitsome"},
      {fid::comm_split, "MPI_Comm_split"},
      {fid::testsome, "MPI_Testsome"},
      {fid::scatterv, "MPI_Scatterv"},
      {fid::scatter, "MPI_Scatter"},
      {fid::comm_free, "MPI_Comm_free"},
      {fid::alltoall, "MPI_Alltoall"},
      {fid::type_free, "MPI_Type_free"},
      {fid::iallreduce, "MPI_Iallreduce"},
      {fid::type_size, "MPI_Type_size"},
      {fid::reduce_scatter_block, "MPI_Reduce_scatter_block"},
      {fid::alltoallw, "MPI_Alltoallw"},
      {fid::alltoallv, "MPI_Alltoallv"},
      {fid::exscan, "MPI_Exscan"},
      {fid::scan, "MPI_Scan"},
      {fid::startall, "MPI_Startall"},
      {fid::recv, "MPI_Recv"},
      {fid::irecv, "MPI_Irecv"},
      {fid::issend, "MPI_Issend"},
      {fid::gatherv, "MPI_Gatherv"},
      {fid::comm_create, "MPI_Comm_create"},
      {fid::comm_dup, "MPI_Comm_dup"},
      {fid::reduce_scatter, "MPI_Reduce_scatter"},
      {fid::ibarrier, "MPI_Ibarrier"},
      {fid::cart_create, "MPI_Cart_create"},
      {fid::sendrecv, "MPI_Sendrecv"},
      {fid::bcast, "MPI_Bcast"},
      {fid::isend, "MPI_Isend"},
      {fid::start, "MPI_Start"},
      {fid::test, "MPI_Test"},
      {fid::waitany, "MPI_Waitany"},
      {fid::iprobe, "MPI_Iprobe"},
      {fid::ssend, "MPI_Ssend"},
      {fid::sendrecv_replace, "MPI_Sendrecv_replace"},
      {fid::rsend, "MPI_Rsend"},
      {fid::bsend, "MPI_Bsend"},
      {fid::irsend, "MPI_Irsend"},
      {fid::ibsend, "MPI_Ibsend"},
      {fid::cart_sub, "MPI_Cart_sub"},
      {fid::comm_split_type, "MPI_Comm_split_type"},
      {fid::comm_dup_with_info, "MPI_Comm_dup_with_info"},
      {fid::comm_create_group, "MPI_Comm_create_group"},
      {fid::free_pseudo, "free"},
  };
  for (const auto& [id, name] : expected)
    EXPECT_EQ(function_name(id), name) << "id " << id;
}

TEST(MpiFunctions, IdsRoundTrip) {
  for (int id = 0; id < kFunctionCount; ++id) {
    std::string_view name = function_name(id);
    ASSERT_FALSE(name.empty()) << id;
    EXPECT_EQ(function_id(name), id) << name;
    if (name.starts_with("MPI_")) {
      EXPECT_EQ(function_id(name.substr(4)), id) << name;
    }
  }
  // Spot checks against include/pilgrim_func_ids.h: the first, a middle and the last generated id.
  EXPECT_EQ(function_name(0), "MPI_Type_delete_attr");
  EXPECT_EQ(function_name(213), "MPI_Init_thread");
  EXPECT_EQ(function_name(382), "MPI_T_pvar_get_info");
  EXPECT_EQ(function_id("Send"), 71);
  EXPECT_EQ(function_id("MPI_Send"), 71);
  EXPECT_EQ(function_id("MPI_Sendd"), -1);
  EXPECT_EQ(function_id(""), -1);
  EXPECT_EQ(function_name(-1), "");
  EXPECT_EQ(function_name(kFunctionCount), "");
}

// ------------------------------------------------------------------------------------------------
// Helpers

struct CstKey {
  int terminal = 0;
  int rank = 0;
  std::vector<std::uint8_t> bytes;
};

// funcs.dat: int32 N, then N entries {int32 terminal, int32 rank, int32 key_len, uint32 count, key}.
std::vector<CstKey> read_cst(const std::string& folder) {
  std::ifstream in("traces/pilgrim/" + folder + "/pilgrim-logs/funcs.dat", std::ios::binary);
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto int_at = [&](std::size_t pos) {
    std::int32_t v = 0;
    std::memcpy(&v, data.data() + pos, 4);
    return v;
  };
  std::vector<CstKey> keys;
  if (data.size() < 4) return keys;
  const int n = int_at(0);
  std::size_t pos = 4;
  for (int i = 0; i < n && pos + 16 <= data.size(); ++i) {
    CstKey key;
    key.terminal = int_at(pos);
    key.rank = int_at(pos + 4);
    const auto length = static_cast<std::size_t>(int_at(pos + 8));
    pos += 16;
    if (pos + length > data.size()) break;
    key.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(pos),
                     data.begin() + static_cast<std::ptrdiff_t>(pos + length));
    pos += length;
    keys.push_back(std::move(key));
  }
  return keys;
}

const char* const kTraces[] = {"netpipe-2r-mpich", "netpipe-2r-openmpi", "lammps-lj-4r", "hpcc-4r-n250"};

std::vector<Signature> decode_all(const std::string& folder) {
  std::vector<Signature> out;
  for (const CstKey& key : read_cst(folder))
    out.push_back(decode_signature(key.bytes));
  return out;
}

// All decoded signatures of `function` in a trace.
std::vector<Signature> of(const std::vector<Signature>& all, int function) {
  std::vector<Signature> out;
  for (const Signature& sig : all)
    if (sig.function == function) out.push_back(sig);
  return out;
}

// The first decoded signature of `function` that satisfies `pred`, if any.
template <class Pred>
std::optional<Signature> first_of(const std::vector<Signature>& all, int function, Pred pred) {
  for (const Signature& sig : all)
    if (sig.function == function && pred(sig)) return sig;
  return std::nullopt;
}

std::vector<std::int64_t> ints(const Signature& sig, std::string_view name) {
  const Arg* arg = sig.find(name);
  return arg ? arg->ints : std::vector<std::int64_t>{};
}

std::vector<std::uint8_t> key_of(int function, const std::vector<std::int32_t>& words) {
  std::vector<std::uint8_t> key(2 + 4 + 4 * words.size());
  auto id = static_cast<std::int16_t>(function);
  std::memcpy(key.data(), &id, 2);  // tid stays 0
  if (!words.empty()) std::memcpy(key.data() + 6, words.data(), 4 * words.size());
  return key;
}

bool same_args(const Signature& a, const Signature& b) {
  if (a.function != b.function || a.thread != b.thread || a.comm_size != b.comm_size) return false;
  if (a.args.size() != b.args.size()) return false;
  for (std::size_t i = 0; i < a.args.size(); ++i) {
    const Arg& x = a.args[i];
    const Arg& y = b.args[i];
    if (x.name != y.name || x.kind != y.kind || x.ints != y.ints || x.text != y.text) return false;
  }
  return true;
}

// ------------------------------------------------------------------------------------------------
// Real traces: every CST entry decodes completely, and re-encodes to the same bytes.

TEST(MpiSignature, EveryRealTraceEntryDecodesExactly) {
  for (const char* trace : kTraces) {
    const std::vector<CstKey> keys = read_cst(trace);
    ASSERT_FALSE(keys.empty()) << trace;
    for (const CstKey& key : keys) {
      const Signature sig = decode_signature(key.bytes);
      ASSERT_TRUE(sig.ok()) << trace << " terminal " << key.terminal << ": " << sig.problem;
      const std::size_t end = key.bytes.size();
      std::uint32_t used = 6 + (sig.comm_size >= 0 ? 4 : 0);
      for (const Arg& arg : sig.args) {
        EXPECT_EQ(arg.offset, used) << trace << " " << function_name(sig.function) << " " << arg.name;
        used += arg.size;
      }
      EXPECT_EQ(used, end) << trace << " terminal " << key.terminal << " " << function_name(sig.function);
      EXPECT_EQ(encode_signature(sig), key.bytes) << trace << " terminal " << key.terminal;
    }
  }
}

// Values checked by hand against the traces' own argument dumps (pilgrim2text-output.tar.xz,
// pilgrim2args/<rank>.args.txt, rank 0, by call number; the first 300 are also in
// pilgrim2args-head-rank0.txt). Pilgrim's dump
// prints peers already decoded ("peer1"); the key holds my rank - peer, so rank 0 talking to 1 stores -1.
TEST(MpiSignature, NetpipeValuesMatchPilgrimsDump) {
  const std::vector<Signature> all = decode_all("netpipe-2r-mpich");
  // rank 0, call 3: MPI_Send a1:int=1 a2:MPI_Datatype=MPI_BYTE a3:peer1 a4:MPI_TAG=1 a5:MPI_COMM_WORLD
  bool found_send = false;
  for (const Signature& sig : of(all, fid::send)) {
    if (sig.value("count") == 1 && sig.value("dest") == -1 && sig.value("datatype") == -14) {
      found_send = true;
      EXPECT_EQ(sig.value("tag"), 1);
      EXPECT_EQ(sig.value("comm"), kCommWorld);
      EXPECT_EQ(sig.find("buf")->kind, ArgKind::pointer);
      EXPECT_EQ(sig.find("buf")->size, 32u);
      EXPECT_EQ(format_arguments(sig, 0), "buf count=1 datatype=MPI_BYTE dest=1 tag=1 comm=WORLD");
    }
  }
  EXPECT_TRUE(found_send);
  // rank 0, call 4: MPI_Recv ... a3:peer1 a4:MPI_TAG=1 ... a6:MPI_Status=[0,0]
  bool found_recv = false;
  for (const Signature& sig : of(all, fid::recv)) {
    if (sig.value("count") == 1 && sig.value("source") == -1 && sig.value("datatype") == -14) {
      found_recv = true;
      EXPECT_EQ(sig.value("tag"), 1);
      EXPECT_EQ(ints(sig, "status"), (std::vector<std::int64_t>{0, 0}));
      EXPECT_EQ(sig.find("status")->kind, ArgKind::status);
    }
  }
  EXPECT_TRUE(found_recv);
}

TEST(MpiSignature, LammpsValuesMatchPilgrimsDump) {
  const std::vector<Signature> all = decode_all("lammps-lj-4r");
  // 0.args.txt call 99: MPI_Irecv a1:int=0 a2:MPI_DOUBLE a3:peer2 a4:MPI_TAG=0 a5:MPI_COMM_WORLD
  // a6:MPI_Request=0 (rank 0: peer 2 is stored as 0 - 2 = -2)
  const std::optional<Signature> irecv =
      first_of(all, fid::irecv, [](const Signature& s) { return s.value("source") == -2; });
  ASSERT_TRUE(irecv.has_value());
  EXPECT_EQ(irecv->value("count"), 0);
  EXPECT_EQ(irecv->value("datatype"), -12);
  EXPECT_EQ(irecv->value("tag"), 0);
  EXPECT_EQ(irecv->value("comm"), kCommWorld);
  EXPECT_EQ(irecv->value("request"), 0);
  EXPECT_EQ(irecv->find("request")->kind, ArgKind::request);
  // call 101: MPI_Wait a0:MPI_Request=0 a1:MPI_Status=[0,0]
  const std::optional<Signature> wait =
      first_of(all, fid::wait, [](const Signature& s) { return s.value("request") == 0; });
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(ints(*wait, "status"), (std::vector<std::int64_t>{0, 0}));
  // call 98: MPI_Sendrecv a1:int=1 a2:MPI_INT a3:peer2 a4:0 a6:int=1 a7:MPI_INT a8:peer2 a9:0 a11:[0,0]
  const std::optional<Signature> sendrecv =
      first_of(all, fid::sendrecv, [](const Signature& s) { return s.value("dest") == -2; });
  ASSERT_TRUE(sendrecv.has_value());
  EXPECT_EQ(sendrecv->value("sendcount"), 1);
  EXPECT_EQ(sendrecv->value("sendtype"), -6);
  EXPECT_EQ(sendrecv->value("sendtag"), 0);
  EXPECT_EQ(sendrecv->value("recvcount"), 1);
  EXPECT_EQ(sendrecv->value("recvtype"), -6);
  EXPECT_EQ(sendrecv->value("source"), -2);
  EXPECT_EQ(sendrecv->value("recvtag"), 0);
  EXPECT_EQ(sendrecv->value("comm"), kCommWorld);
  EXPECT_EQ(sendrecv->find("status")->offset, 106u);  // 6 + 2 x (32 + 4 x 4) + 4
  // call 54: MPI_Allreduce a2:int=1 a3:MPI_INT a4:MPI_SUM a5:MPI_COMM_WORLD
  const std::optional<Signature> allreduce = first_of(all, fid::allreduce, [](const Signature& s) {
    return s.value("datatype") == -6 && s.value("op") == -4;
  });
  ASSERT_TRUE(allreduce.has_value());
  EXPECT_EQ(allreduce->value("count"), 1);
  EXPECT_EQ(format_arguments(*allreduce, 0),
            "sendbuf recvbuf count=1 datatype=MPI_INT op=MPI_SUM comm=WORLD");
  // call 14 (rank 0): MPI_Bcast a1:int=24 a2:MPI_CHAR a3:int=0 a4:MPI_COMM_WORLD
  const std::optional<Signature> bcast =
      first_of(all, fid::bcast, [](const Signature& s) { return s.value("count") == 24; });
  ASSERT_TRUE(bcast.has_value());
  EXPECT_EQ(bcast->value("datatype"), -2);
  EXPECT_EQ(bcast->value("root"), 0);
  EXPECT_EQ(bcast->find("root")->kind, ArgKind::root);
  // call 39: MPI_Cart_create a0:MPI_COMM_WORLD a1:int=3 a2:[1,2,2] a3:[1,1,1] a4:int=0 a5:MPI_Comm#0
  const std::optional<Signature> cart =
      first_of(all, fid::cart_create, [](const Signature&) { return true; });
  ASSERT_TRUE(cart.has_value());
  EXPECT_EQ(cart->value("comm_old"), kCommWorld);
  EXPECT_EQ(cart->value("ndims"), 3);
  EXPECT_EQ(ints(*cart, "dims"), (std::vector<std::int64_t>{1, 2, 2}));
  EXPECT_EQ(ints(*cart, "periods"), (std::vector<std::int64_t>{1, 1, 1}));
  EXPECT_EQ(cart->value("reorder"), 0);
  EXPECT_EQ(cart->value("comm_cart"), 0);
  // call 45: MPI_Cart_rank a1:[0,0,1,<garbage>] a2:int=1. Both arrays are sized by the communicator (4),
  // so 3 coordinates plus one stray int, and the output rank plus three stray ints: 46 bytes.
  const std::optional<Signature> cart_rank =
      first_of(all, 254, [](const Signature& s) { return s.value("rank") == 1; });
  ASSERT_TRUE(cart_rank.has_value());
  EXPECT_EQ(cart_rank->comm_size, 4);
  ASSERT_EQ(ints(*cart_rank, "coords").size(), 4u);
  EXPECT_EQ(ints(*cart_rank, "coords")[2], 1);
  EXPECT_EQ(ints(*cart_rank, "rank").size(), 4u);
}

TEST(MpiSignature, HpccValuesMatchPilgrimsDump) {
  const std::vector<Signature> all = decode_all("hpcc-4r-n250");
  // 0.args.txt call 381: MPI_Isend a1:int=13 a2:MPI_LONG_LONG a3:peer1 a4:MPI_TAG=2 a6:MPI_Request=1
  bool isend = false;
  for (const Signature& sig : of(all, fid::isend))
    if (sig.value("count") == 13 && sig.value("dest") == -1) {
      isend = true;
      EXPECT_EQ(sig.value("datatype"), -10);
      EXPECT_EQ(sig.value("tag"), 2);
      EXPECT_EQ(sig.value("request"), 1);
    }
  EXPECT_TRUE(isend);
  // call 403: MPI_Waitall a0:int=4 a1:MPI_Request=[5,4,3,REQ_NULL] a2:MPI_Status=[0,0,0,0,0,0,0,0]
  bool waitall = false;
  for (const Signature& sig : of(all, fid::waitall))
    if (ints(sig, "array_of_requests") == std::vector<std::int64_t>{5, 4, 3, kRequestNull}) {
      waitall = true;
      EXPECT_EQ(sig.value("count"), 4);
      EXPECT_EQ(ints(sig, "array_of_statuses"), std::vector<std::int64_t>(8, 0));
      EXPECT_EQ(sig.find("array_of_statuses")->size, 32u);
    }
  EXPECT_TRUE(waitall);
  // call 49: MPI_Testany a0:int=1 a1:MPI_Request=0 a2:int=-32766 a3:int=0 (flag false: 22 bytes, no status);
  // call 373: ... a2:int=0 a3:int=1 a4:MPI_Status=[-2,-2] (30 bytes)
  bool testany_false = false;
  bool testany_true = false;
  for (const Signature& sig : of(all, fid::testany)) {
    if (sig.value("flag") == 0) {
      testany_false = true;
      EXPECT_EQ(sig.value("index"), -32766);
      EXPECT_EQ(sig.find("status"), nullptr);
    } else if (ints(sig, "status") == std::vector<std::int64_t>{-2, -2}) {
      testany_true = true;
      EXPECT_EQ(sig.value("index"), 0);
      EXPECT_EQ(ints(sig, "array_of_requests"), (std::vector<std::int64_t>{0}));
    }
  }
  EXPECT_TRUE(testany_false);
  EXPECT_TRUE(testany_true);
  // calls 67044-67045: MPI_Comm_split a0:MPI_COMM_WORLD a1:int=-99993 a2:int=-99992 a3:MPI_Comm#0, then
  // a0:MPI_Comm#0 a1:int=-99994 a2:int=-99995 a3:MPI_Comm#1 (pattern codes, not the real color and key)
  bool split_world = false;
  bool split_sub = false;
  for (const Signature& sig : of(all, fid::comm_split)) {
    if (sig.value("comm") == kCommWorld && sig.value("newcomm") == 0) {
      split_world = true;
      EXPECT_EQ(sig.value("color"), -99993);
      EXPECT_EQ(sig.value("key"), -99992);
    }
    if (sig.value("comm") == 0 && sig.value("newcomm") == 1) {
      split_sub = true;
      EXPECT_EQ(sig.value("color"), -99994);
      EXPECT_EQ(sig.value("key"), -99995);
    }
  }
  EXPECT_TRUE(split_world);
  EXPECT_TRUE(split_sub);
  // call 80616: MPI_Type_create_struct a0:int=81 a1:[80 x 80, 6481] a2:MPI_Aint=[0,1280,...,101120,-2896512]
  // a3:[MPI_DOUBLE x 81] a4:MPI_Datatype#0 (1310 bytes); call 81056: a0:1 a1:6481 a2:0 a3:MPI_DOUBLE (30
  // bytes)
  bool big_struct = false;
  bool small_struct = false;
  for (const Signature& sig : of(all, 167)) {
    const std::vector<std::int64_t> displacements = ints(sig, "array_of_displacements");
    if (sig.value("count") == 81 && displacements.size() == 81 && displacements[1] == 1280 &&
        displacements[80] == -2896512) {
      big_struct = true;
      EXPECT_EQ(ints(sig, "array_of_blocklengths")[0], 80);
      EXPECT_EQ(ints(sig, "array_of_blocklengths")[80], 6481);
      EXPECT_EQ(displacements[79], 101120);
      EXPECT_EQ(ints(sig, "array_of_types"), std::vector<std::int64_t>(81, -12));
      EXPECT_EQ(sig.value("newtype"), 0);
    }
    if (sig.value("count") == 1 && sig.value("array_of_blocklengths") == 6481) {
      small_struct = true;
      EXPECT_EQ(ints(sig, "array_of_displacements"), (std::vector<std::int64_t>{0}));
      EXPECT_EQ(ints(sig, "array_of_types"), (std::vector<std::int64_t>{-12}));
      EXPECT_EQ(format_arguments(sig, 0),
                "count=1 array_of_blocklengths=[6481] array_of_displacements=[0] array_of_types=[MPI_DOUBLE] "
                "newtype=type#0");
    }
  }
  EXPECT_TRUE(big_struct);
  EXPECT_TRUE(small_struct);
  // MPI_Get_processor_name a0:char*="vm" a1:int=2 (13 bytes: the string with its NUL, then the length)
  const std::vector<Signature> names = of(all, 333);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].find("name")->text, "vm");
  EXPECT_EQ(names[0].value("resultlen"), 2);
  // MPI_Op_create a0:MPI_User_function=<1B> a1:int=1 a2:MPI_Op#0 (15 bytes)
  for (const Signature& sig : of(all, 50)) {
    EXPECT_EQ(sig.find("user_fn")->size, 1u);
    EXPECT_EQ(sig.value("commute"), 1);
  }
  // MPI_Cancel records nothing at a2b828b (a 6-byte key).
  for (const Signature& sig : of(all, fid::cancel))
    EXPECT_TRUE(sig.args.empty());
}

// ------------------------------------------------------------------------------------------------
// Every function has a layout; zero-filled keys of the right length decode and re-encode.

TEST(MpiSignature, EveryFunctionHasALayout) {
  for (int id = 0; id < kFunctionCount; ++id) {
    bool decoded = false;
    for (std::size_t length = 6; length <= 400 && !decoded; ++length) {
      std::vector<std::uint8_t> key(length, 0);
      key[0] = static_cast<std::uint8_t>(id & 0xFF);
      key[1] = static_cast<std::uint8_t>(id >> 8);
      const Signature sig = decode_signature(key);
      EXPECT_EQ(sig.problem.find("layout"), std::string::npos) << sig.problem;
      if (!sig.ok()) continue;
      decoded = true;
      EXPECT_EQ(encode_signature(sig), key) << function_name(id);
      for (const Arg& arg : sig.args)
        EXPECT_FALSE(arg.name.empty()) << function_name(id);
    }
    EXPECT_TRUE(decoded) << function_name(id);
  }
}

TEST(MpiSignature, LayoutsOfCommonCallsHaveTheVerifiedLengths) {
  // Key lengths measured on the real traces (function id: key length), with the arrays' sizes they had.
  auto zero_key_length = [](int id, std::vector<std::int32_t> head) {
    for (std::size_t extra = 0; extra <= 2000; ++extra) {
      std::vector<std::int32_t> words = head;
      std::vector<std::uint8_t> key = key_of(id, words);
      key.resize(key.size() + extra, 0);
      if (decode_signature(key).ok()) return key.size();
    }
    return std::size_t{0};
  };
  EXPECT_EQ(zero_key_length(fid::comm_size, {}), 14u);
  EXPECT_EQ(zero_key_length(fid::send, {}), 58u);
  EXPECT_EQ(zero_key_length(fid::barrier, {}), 10u);
  EXPECT_EQ(zero_key_length(fid::recv, {}), 66u);
  EXPECT_EQ(zero_key_length(fid::cart_shift, {}), 26u);
  EXPECT_EQ(zero_key_length(fid::allreduce, {}), 86u);
  EXPECT_EQ(zero_key_length(fid::reduce, {}), 90u);
  EXPECT_EQ(zero_key_length(fid::wait, {}), 18u);
  EXPECT_EQ(zero_key_length(fid::irecv, {}), 62u);
  EXPECT_EQ(zero_key_length(fid::isend, {}), 62u);
  EXPECT_EQ(zero_key_length(fid::sendrecv, {}), 114u);
  EXPECT_EQ(zero_key_length(fid::bcast, {}), 54u);
  EXPECT_EQ(zero_key_length(fid::gather, {}), 94u);
  EXPECT_EQ(zero_key_length(fid::alltoall, {}), 90u);
  EXPECT_EQ(zero_key_length(fid::comm_split, {}), 22u);
  EXPECT_EQ(zero_key_length(fid::iprobe, {}), 30u);
  EXPECT_EQ(zero_key_length(fid::get_count, {}), 22u);
  EXPECT_EQ(zero_key_length(fid::test, {}), 22u);
  EXPECT_EQ(zero_key_length(20, {}), 46u);  // Get_address
  EXPECT_EQ(zero_key_length(50, {}), 15u);  // Op_create
  EXPECT_EQ(zero_key_length(fid::cancel, {}), 6u);
  EXPECT_EQ(zero_key_length(93, {0, 3}), 50u);                // Cart_get, maxdims 3
  EXPECT_EQ(zero_key_length(fid::cart_create, {0, 3}), 46u);  // ndims 3
  EXPECT_EQ(zero_key_length(254, {4}), 46u);                  // Cart_rank on 4 ranks
  EXPECT_EQ(zero_key_length(fid::waitall, {4}), 58u);
  EXPECT_EQ(zero_key_length(fid::waitall, {2}), 34u);
  EXPECT_EQ(zero_key_length(fid::alltoallv, {4}), 150u);
  EXPECT_EQ(zero_key_length(fid::testany, {1}), 22u);
  // Waitany: count 1, its request, the index; the status only when the index is not MPI_UNDEFINED.
  EXPECT_EQ(zero_key_length(fid::waitany, {1, 0, 0}), 18u);
  EXPECT_TRUE(decode_signature(key_of(fid::waitany, {1, 0, 0, 0, 0})).ok());
  EXPECT_EQ(zero_key_length(167, {81}), 1310u);  // Type_create_struct, count 81
}

// ------------------------------------------------------------------------------------------------
// Robustness: truncated keys, random bytes, absurd lengths.

TEST(MpiSignature, EveryPrefixOfRealKeysIsHandled) {
  std::vector<std::vector<std::uint8_t>> samples;
  for (const char* trace : kTraces) {
    std::vector<int> seen;
    for (const CstKey& key : read_cst(trace)) {
      const int id = key.bytes[0] | (key.bytes[1] << 8);
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
      seen.push_back(id);
      samples.push_back(key.bytes);
    }
  }
  ASSERT_GT(samples.size(), 30u);
  for (const std::vector<std::uint8_t>& key : samples) {
    for (std::size_t length = 0; length < key.size(); ++length) {
      const std::span<const std::uint8_t> prefix(key.data(), length);
      const Signature sig = decode_signature(prefix);
      if (!sig.ok()) continue;
      // Only an optional trailing argument may be cut off cleanly (Testany's status, for one).
      std::uint32_t end = sig.args.empty() ? 6 : sig.args.back().offset + sig.args.back().size;
      EXPECT_EQ(end, length) << function_name(sig.function);
    }
  }
}

TEST(MpiSignature, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> function(-2, kFunctionCount + 2);
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::uint8_t> key(static_cast<std::size_t>(rng() % 160));
    for (auto& b : key)
      b = static_cast<std::uint8_t>(byte(rng));
    if (key.size() >= 2 && round % 2 == 0) {  // mostly real function ids, so the layouts get exercised
      const auto id = static_cast<std::uint16_t>(function(rng));
      key[0] = static_cast<std::uint8_t>(id & 0xFF);
      key[1] = static_cast<std::uint8_t>(id >> 8);
    }
    if (round % 4 == 1 && key.size() >= 10)
      std::memset(key.data() + 6, 0, std::min<std::size_t>(8, key.size() - 6));
    const Signature sig = decode_signature(key, round % 3 != 0);
    if (sig.ok()) {
      ++decoded;
      // Padding inside pointer records is not kept, so compare the arguments rather than the bytes.
      const Signature again = decode_signature(encode_signature(sig, round % 3 != 0), round % 3 != 0);
      EXPECT_TRUE(same_args(again, sig)) << function_name(sig.function);
    } else {
      EXPECT_FALSE(sig.problem.empty());
    }
  }
  EXPECT_GT(decoded, 0);
}

TEST(MpiSignature, MutatedRealKeysNeverCrash) {
  // Real keys with a few bytes changed hit the array-length paths with realistic layouts.
  std::mt19937 rng(777);
  for (const char* trace : kTraces) {
    for (const CstKey& key : read_cst(trace)) {
      for (int round = 0; round < 8; ++round) {
        std::vector<std::uint8_t> bytes = key.bytes;
        const int changes = 1 + static_cast<int>(rng() % 3);
        for (int c = 0; c < changes; ++c)
          bytes[2 + rng() % (bytes.size() - 2)] = static_cast<std::uint8_t>(rng());
        if (round == 7) bytes.resize(rng() % bytes.size());
        const Signature sig = decode_signature(bytes);
        if (!sig.ok()) {
          EXPECT_FALSE(sig.problem.empty());
          continue;
        }
        std::uint32_t end = (sig.args.empty() ? 6 + (sig.comm_size >= 0 ? 4 : 0)
                                              : sig.args.back().offset + sig.args.back().size);
        EXPECT_EQ(end, bytes.size());
      }
    }
  }
}

TEST(MpiSignature, ErrhandlersTakeWhatTheKeyHas) {
  // The wrappers copy sizeof(MPI_Errhandler): 4 bytes under MPICH, 8 under Open MPI.
  const Signature mpich = decode_signature(key_of(377, {kCommWorld, 0x54000000}));
  ASSERT_TRUE(mpich.ok()) << mpich.problem;
  EXPECT_EQ(mpich.find("errhandler")->size, 4u);
  EXPECT_EQ(mpich.value("errhandler"), 0x54000000);
  const Signature openmpi = decode_signature(key_of(377, {kCommWorld, 0x12345678, 0x5555}));
  ASSERT_TRUE(openmpi.ok()) << openmpi.problem;
  EXPECT_EQ(openmpi.find("errhandler")->size, 8u);
  EXPECT_EQ(ints(openmpi, "errhandler"), (std::vector<std::int64_t>{0x12345678, 0x5555}));
  EXPECT_EQ(encode_signature(openmpi), key_of(377, {kCommWorld, 0x12345678, 0x5555}));
  EXPECT_FALSE(decode_signature(key_of(377, {kCommWorld, 1, 2, 3})).ok());
}

TEST(MpiSignature, HugeAndNegativeLengthsAreRejected) {
  // Waitall with count 2^31-1 and with a negative count.
  EXPECT_NE(decode_signature(key_of(fid::waitall, {0x7fffffff, 1, 2})).problem.find("needs"),
            std::string::npos);
  EXPECT_NE(decode_signature(key_of(fid::waitall, {-5, 1, 2})).problem.find("negative"), std::string::npos);
  // Group_range_incl multiplies n by 3: no overflow for a huge n.
  EXPECT_FALSE(decode_signature(key_of(357, {0, 0x7fffffff, 0})).ok());
  // A negative communicator size.
  EXPECT_NE(decode_signature(key_of(fid::alltoallv, {-1})).problem.find("communicator size"),
            std::string::npos);
  // A string without its NUL.
  std::vector<std::uint8_t> name = key_of(333, {});
  name.push_back('v');
  EXPECT_NE(decode_signature(name).problem.find("NUL"), std::string::npos);
}

TEST(MpiSignature, ProblemsSayWhatWentWrong) {
  EXPECT_EQ(decode_signature({}).problem, "key of 0 bytes has no function id");
  EXPECT_EQ(decode_signature(key_of(999, {})).problem, "unknown function id 999");
  std::vector<std::uint8_t> barrier = key_of(fid::barrier, {kCommWorld, 7, 7});
  EXPECT_EQ(decode_signature(barrier).problem, "MPI_Barrier: 8 bytes left over after 'comm'");
  barrier.resize(8);
  EXPECT_EQ(decode_signature(barrier).problem, "MPI_Barrier: key ends inside 'comm' (needs 4 bytes, 2 left)");
  const Signature cut = decode_signature(barrier);
  EXPECT_EQ(cut.function, fid::barrier);
  EXPECT_TRUE(cut.args.empty());
}

// ------------------------------------------------------------------------------------------------
// Encoding

Arg make(std::string_view name, ArgKind kind, std::vector<std::int64_t> values, std::string text = {}) {
  Arg arg;
  arg.name = name;
  arg.kind = kind;
  arg.ints = std::move(values);
  arg.text = std::move(text);
  return arg;
}

Arg buffer(std::string_view name) {
  return make(name, ArgKind::pointer, {3, 0, 0, 0, 0xFF});
}

TEST(MpiSignature, EncodeIsTheInverseOfDecode) {
  std::vector<Signature> cases;
  auto add = [&](int function, std::vector<Arg> args, int comm_size = -1) {
    Signature sig;
    sig.function = function;
    sig.comm_size = comm_size;
    sig.args = std::move(args);
    cases.push_back(std::move(sig));
  };
  add(fid::send, {buffer("buf"), make("count", ArgKind::int32, {1024}),
                  make("datatype", ArgKind::datatype, {-12}), make("dest", ArgKind::peer, {-1}),
                  make("tag", ArgKind::tag, {7}), make("comm", ArgKind::comm, {kCommWorld})});
  add(fid::recv,
      {buffer("buf"), make("count", ArgKind::int32, {8}), make("datatype", ArgKind::datatype, {-6}),
       make("source", ArgKind::peer, {kAnySource}), make("tag", ArgKind::tag, {kAnyTag}),
       make("comm", ArgKind::comm, {2}), make("status", ArgKind::status, {3, 9})});
  add(fid::waitall,
      {make("count", ArgKind::int32, {3}), make("array_of_requests", ArgKind::request_array, {2, 1, -1}),
       make("array_of_statuses", ArgKind::status_array, {0, 0, 1, 5, 0, 0})});
  add(fid::waitany,
      {make("count", ArgKind::int32, {2}), make("array_of_requests", ArgKind::request_array, {1, 0}),
       make("index", ArgKind::int32, {-32766})});
  add(fid::testsome,
      {make("incount", ArgKind::int32, {2}), make("array_of_requests", ArgKind::request_array, {1, 0}),
       make("outcount", ArgKind::int32, {1, 0x1234}), make("array_of_indices", ArgKind::int32_array, {1}),
       make("array_of_statuses", ArgKind::status_array, {0, 0})});
  add(fid::testall,
      {make("count", ArgKind::int32, {1}), make("array_of_requests", ArgKind::request_array, {0}),
       make("flag", ArgKind::int32, {1}), make("array_of_statuses", ArgKind::status_array, {0, 0})});
  add(fid::alltoallv,
      {buffer("sendbuf"), make("sendcounts", ArgKind::int32_array, {1, 2, 3}),
       make("sdispls", ArgKind::int32_array, {0, 1, 3}), make("sendtype", ArgKind::datatype, {-14}),
       buffer("recvbuf"), make("recvcounts", ArgKind::int32_array, {3, 2, 1}),
       make("rdispls", ArgKind::int32_array, {0, 3, 5}), make("recvtype", ArgKind::datatype, {-14}),
       make("comm", ArgKind::comm, {0})},
      3);
  add(fid::alltoallw,
      {buffer("sendbuf"), make("sendcounts", ArgKind::int32_array, {1, 2}),
       make("sdispls", ArgKind::int32_array, {0, 8}), make("sendtypes", ArgKind::datatype_array, {-6, 1}),
       buffer("recvbuf"), make("recvcounts", ArgKind::int32_array, {1, 2}),
       make("rdispls", ArgKind::int32_array, {0, 8}), make("recvtypes", ArgKind::datatype_array, {-6, 1}),
       make("comm", ArgKind::comm, {kCommWorld})},
      2);
  add(167,
      {make("count", ArgKind::int32, {2}), make("array_of_blocklengths", ArgKind::int32_array, {1, 3}),
       make("array_of_displacements", ArgKind::int64_array, {0, 1LL << 40}),
       make("array_of_types", ArgKind::datatype_array, {-6, -12}), make("newtype", ArgKind::datatype, {4})});
  add(34, {make("comm", ArgKind::comm, {kCommSelf}), make("comm_name", ArgKind::string, {}, "solver")});
  add(50, {make("user_fn", ArgKind::bytes, {0x48}), make("commute", ArgKind::int32, {0}),
           make("op", ArgKind::op, {0})});
  add(20, {buffer("location"), make("address", ArgKind::int64, {94267413193408})});
  add(185,
      {make("group", ArgKind::handle, {1}), make("n", ArgKind::int32, {2}),
       make("ranges", ArgKind::int32_array, {0, 3, 1, 5, 7, 1}), make("newgroup", ArgKind::handle, {2})});
  add(fid::startall, {make("count", ArgKind::int32, {2})});
  add(fid::startall,
      {make("count", ArgKind::int32, {2}), make("array_of_requests", ArgKind::request_array, {4, 3})});
  add(fid::free_pseudo, {make("ptr", ArgKind::pointer, {5, 16, 4096, 1, 0})});
  add(fid::barrier, {make("comm", ArgKind::comm, {kCommWorld})});
  add(377, {make("comm", ArgKind::comm, {0}), make("errhandler", ArgKind::handle, {-1})});
  add(377, {make("comm", ArgKind::comm, {0}), make("errhandler", ArgKind::handle, {0x1000, 0x7f})});
  add(73, {});  // MPI_Finalize records nothing

  for (const Signature& sig : cases) {
    for (bool tid : {true, false}) {
      const std::vector<std::uint8_t> key = encode_signature(sig, tid);
      const Signature back = decode_signature(key, tid);
      ASSERT_TRUE(back.ok()) << function_name(sig.function) << ": " << back.problem;
      EXPECT_TRUE(same_args(back, sig)) << function_name(sig.function);
      std::uint32_t end = (tid ? 6 : 2) + (sig.comm_size >= 0 ? 4 : 0);
      for (const Arg& arg : back.args)
        end += arg.size;
      EXPECT_EQ(end, key.size()) << function_name(sig.function);
      EXPECT_EQ(encode_signature(back, tid), key) << function_name(sig.function);
    }
  }
}

TEST(MpiSignature, PointerRecordLayout) {
  Signature sig;
  sig.function = fid::free_pseudo;
  sig.args = {make("ptr", ArgKind::pointer, {7, 0x10, 0x2000, 2, 1})};
  const std::vector<std::uint8_t> key = encode_signature(sig);
  ASSERT_EQ(key.size(), 6u + 32u);
  EXPECT_EQ(key[6], 7);      // id
  EXPECT_EQ(key[14], 0x10);  // offset at +8
  EXPECT_EQ(key[23], 0x20);  // size at +16 (0x2000, second byte)
  EXPECT_EQ(key[30], 2);     // type at +24
  EXPECT_EQ(key[31], 1);     // device at +25
  // A pointer with no values is the record of an untracked build: all zero, device 0xFF.
  sig.args = {make("ptr", ArgKind::pointer, {})};
  EXPECT_EQ(encode_signature(sig)[31], 0xFF);
}

// ------------------------------------------------------------------------------------------------
// Formatting and names

TEST(MpiSignature, FormatNamesSymbolicValues) {
  Signature recv;
  recv.function = fid::recv;
  recv.args = {buffer("buf"),
               make("count", ArgKind::int32, {4}),
               make("datatype", ArgKind::datatype, {-11}),
               make("source", ArgKind::peer, {kAnySource}),
               make("tag", ArgKind::tag, {kAnyTag}),
               make("comm", ArgKind::comm, {kCommSelf}),
               make("status", ArgKind::status, {2, 9})};
  EXPECT_EQ(format_arguments(recv, 3),
            "buf count=4 datatype=MPI_FLOAT source=ANY_SOURCE tag=ANY_TAG comm=SELF status={2,9}");
  Signature isend;
  isend.function = fid::isend;
  isend.args = {buffer("buf"),
                make("count", ArgKind::int32, {0}),
                make("datatype", ArgKind::datatype, {3}),
                make("dest", ArgKind::peer, {kProcNull}),
                make("tag", ArgKind::tag, {0}),
                make("comm", ArgKind::comm, {kCommNull}),
                make("request", ArgKind::request, {kRequestNull})};
  EXPECT_EQ(format_arguments(isend, 0),
            "buf count=0 datatype=type#3 dest=PROC_NULL tag=0 comm=NULL request=REQUEST_NULL");
  // Peers resolve with the caller's rank: rank 2 storing -1 talks to rank 3.
  Signature send;
  send.function = fid::send;
  send.args = {make("dest", ArgKind::peer, {-1}), make("comm", ArgKind::comm, {5})};
  EXPECT_EQ(format_arguments(send, 2), "dest=3 comm=comm#5");
  Signature waitall;
  waitall.function = fid::waitall;
  waitall.args = {make("count", ArgKind::int32, {2}),
                  make("array_of_requests", ArgKind::request_array, {kUntrackedRequest, kRequestNull}),
                  make("array_of_statuses", ArgKind::status_array, {0, 0, 1, 2})};
  EXPECT_EQ(format_arguments(waitall, 0),
            "count=2 array_of_requests=[UNTRACKED,REQUEST_NULL] array_of_statuses=[{0,0},{1,2}]");
  Signature named;
  named.function = 34;
  named.args = {make("comm", ArgKind::comm, {0}), make("comm_name", ArgKind::string, {}, "rows")};
  EXPECT_EQ(format_arguments(named, 0), "comm=comm#0 comm_name=\"rows\"");
  Signature reduce;
  reduce.function = fid::reduce;
  reduce.args = {make("op", ArgKind::op, {-3}), make("root", ArgKind::root, {2}),
                 make("op2", ArgKind::op, {1})};
  EXPECT_EQ(format_arguments(reduce, 0), "op=MPI_MIN root=2 op2=op#1");
}

TEST(MpiSignature, BuiltinDatatypes) {
  // Codes are -(index+1) in Pilgrim's builtin_mpi_datatypes[] (include/pilgrim_consts.h).
  EXPECT_EQ(datatype_name(-1), "MPI_DATATYPE_NULL");
  EXPECT_EQ(datatype_name(-2), "MPI_CHAR");
  EXPECT_EQ(datatype_name(-6), "MPI_INT");
  EXPECT_EQ(datatype_name(-10), "MPI_LONG_LONG");
  EXPECT_EQ(datatype_name(-11), "MPI_FLOAT");
  EXPECT_EQ(datatype_name(-12), "MPI_DOUBLE");
  EXPECT_EQ(datatype_name(-14), "MPI_BYTE");
  EXPECT_EQ(datatype_name(-53), "MPI_DOUBLE_INT");
  EXPECT_EQ(datatype_name(-57), "MPI_DOUBLE_PRECISION");
  EXPECT_EQ(datatype_name(0), "type#0");
  EXPECT_EQ(datatype_name(12), "type#12");
  EXPECT_EQ(builtin_datatype_size(-2), 1);
  EXPECT_EQ(builtin_datatype_size(-4), 2);
  EXPECT_EQ(builtin_datatype_size(-6), 4);
  EXPECT_EQ(builtin_datatype_size(-8), 8);
  EXPECT_EQ(builtin_datatype_size(-10), 8);
  EXPECT_EQ(builtin_datatype_size(-11), 4);
  EXPECT_EQ(builtin_datatype_size(-12), 8);
  EXPECT_EQ(builtin_datatype_size(-13), 16);
  EXPECT_EQ(builtin_datatype_size(-14), 1);
  EXPECT_EQ(builtin_datatype_size(-16), 1);   // MPI_PACKED
  EXPECT_EQ(builtin_datatype_size(-22), 8);   // MPI_2INT
  EXPECT_EQ(builtin_datatype_size(-53), 12);  // MPI_DOUBLE_INT: data bytes, not the 16-byte extent
  EXPECT_EQ(builtin_datatype_size(-1), 0);
  EXPECT_EQ(builtin_datatype_size(-58), 0);
  EXPECT_EQ(builtin_datatype_size(0), 0);
  EXPECT_EQ(builtin_datatype_size(kInvalidHandle), 0);
}

TEST(MpiSignature, FindValueAndKinds) {
  Signature sig;
  sig.args = {make("count", ArgKind::int32, {5}), make("empty", ArgKind::int32_array, {})};
  EXPECT_EQ(sig.find("count"), &sig.args[0]);
  EXPECT_EQ(sig.find("missing"), nullptr);
  EXPECT_EQ(sig.value("count"), 5);
  EXPECT_EQ(sig.value("missing", -7), -7);
  EXPECT_EQ(sig.value("empty", 42), 42);
  std::vector<std::string_view> names;
  for (int kind = 0; kind <= static_cast<int>(ArgKind::bytes); ++kind) {
    std::string_view name = to_string(static_cast<ArgKind>(kind));
    EXPECT_NE(name, "unknown");
    EXPECT_EQ(std::find(names.begin(), names.end(), name), names.end()) << name;
    names.push_back(name);
  }
  EXPECT_EQ(to_string(ArgKind::request_array), "request_array");
}

TEST(MpiSignature, KeysWithoutThreadIds) {
  // Format versions before 2022-04 have no tid: the same arguments follow the function id directly.
  for (const CstKey& key : read_cst("lammps-lj-4r")) {
    const Signature with = decode_signature(key.bytes);
    std::vector<std::uint8_t> older(key.bytes.begin(), key.bytes.begin() + 2);
    older.insert(older.end(), key.bytes.begin() + 6, key.bytes.end());
    const Signature without = decode_signature(older, false);
    ASSERT_TRUE(without.ok()) << without.problem;
    EXPECT_TRUE(same_args(with, without));
    EXPECT_EQ(encode_signature(without, false), older);
  }
}

}  // namespace
}  // namespace whatif::mpi
