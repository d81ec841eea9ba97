// Compiles decoded signatures into replay operations and keeps each rank's datatype and communicator tables.
#include "mpi/program.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "core/diagnostics.hpp"
#include "core/yaml.hpp"
#include "mpi/functions.hpp"

namespace whatif::mpi {

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::barrier:
      return "barrier";
    case Collective::bcast:
      return "bcast";
    case Collective::reduce:
      return "reduce";
    case Collective::allreduce:
      return "allreduce";
    case Collective::allgather:
      return "allgather";
    case Collective::allgatherv:
      return "allgatherv";
    case Collective::gather:
      return "gather";
    case Collective::gatherv:
      return "gatherv";
    case Collective::scatter:
      return "scatter";
    case Collective::scatterv:
      return "scatterv";
    case Collective::alltoall:
      return "alltoall";
    case Collective::alltoallv:
      return "alltoallv";
    case Collective::alltoallw:
      return "alltoallw";
    case Collective::reduce_scatter:
      return "reduce_scatter";
    case Collective::reduce_scatter_block:
      return "reduce_scatter_block";
    case Collective::scan:
      return "scan";
    case Collective::exscan:
      return "exscan";
  }
  return "?";
}

namespace {

std::vector<int> int_values(const Signature& s, std::string_view name) {
  std::vector<int> out;
  if (const Arg* a = s.find(name))
    for (std::int64_t v : a->ints)
      out.push_back(static_cast<int>(v));
  return out;
}

std::vector<std::int64_t> values(const Signature& s, std::string_view name) {
  if (const Arg* a = s.find(name)) return a->ints;
  return {};
}

int i32(const Signature& s, std::string_view name, std::int64_t fallback = 0) {
  return static_cast<int>(s.value(name, fallback));
}

// The comm argument of communicator-creating calls is "comm" except Cart_create's "comm_old".
int parent_comm(const Signature& s) {
  if (s.find("comm_old")) return i32(s, "comm_old", kCommWorld);
  return i32(s, "comm", kCommWorld);
}

struct NameId {
  std::string_view name;
  Collective collective;
};

// Collectives by base name; the I- prefix makes them non-blocking.
constexpr NameId kCollectives[] = {
    {"Barrier", Collective::barrier},
    {"Bcast", Collective::bcast},
    {"Reduce", Collective::reduce},
    {"Allreduce", Collective::allreduce},
    {"Allgather", Collective::allgather},
    {"Allgatherv", Collective::allgatherv},
    {"Gather", Collective::gather},
    {"Gatherv", Collective::gatherv},
    {"Scatter", Collective::scatter},
    {"Scatterv", Collective::scatterv},
    {"Alltoall", Collective::alltoall},
    {"Alltoallv", Collective::alltoallv},
    {"Alltoallw", Collective::alltoallw},
    {"Reduce_scatter", Collective::reduce_scatter},
    {"Reduce_scatter_block", Collective::reduce_scatter_block},
    {"Scan", Collective::scan},
    {"Exscan", Collective::exscan},
};

void compile_collective(const Signature& s, Collective c, CallOp& op) {
  op.kind = OpKind::collective;
  op.collective = c;
  op.comm = i32(s, "comm", kCommWorld);
  op.root = i32(s, "root", 0);
  switch (c) {
    case Collective::barrier:
      break;
    case Collective::bcast:
    case Collective::reduce:
    case Collective::allreduce:
    case Collective::scan:
    case Collective::exscan:
      op.send_count = s.value("count");
      op.send_type = i32(s, "datatype", -1);
      break;
    case Collective::reduce_scatter_block:
      op.recv_count = s.value("recvcount");
      op.recv_type = i32(s, "datatype", -1);
      break;
    case Collective::reduce_scatter:
      op.recv_counts = values(s, "recvcounts");
      op.recv_type = i32(s, "datatype", -1);
      break;
    case Collective::allgatherv:
    case Collective::gatherv:
      op.send_count = s.value("sendcount");
      op.send_type = i32(s, "sendtype", -1);
      op.recv_counts = values(s, "recvcounts");
      op.recv_type = i32(s, "recvtype", -1);
      break;
    case Collective::scatterv:
      op.send_counts = values(s, "sendcounts");
      op.send_type = i32(s, "sendtype", -1);
      op.recv_count = s.value("recvcount");
      op.recv_type = i32(s, "recvtype", -1);
      break;
    case Collective::alltoallv:
      op.send_counts = values(s, "sendcounts");
      op.send_type = i32(s, "sendtype", -1);
      op.recv_counts = values(s, "recvcounts");
      op.recv_type = i32(s, "recvtype", -1);
      break;
    case Collective::alltoallw:
      op.send_counts = values(s, "sendcounts");
      op.send_types = int_values(s, "sendtypes");
      op.recv_counts = values(s, "recvcounts");
      op.recv_types = int_values(s, "recvtypes");
      break;
    default:  // allgather, gather, scatter, alltoall
      op.send_count = s.value("sendcount");
      op.send_type = i32(s, "sendtype", -1);
      op.recv_count = s.value("recvcount");
      op.recv_type = i32(s, "recvtype", -1);
      break;
  }
}

void compile_type(const Signature& s, std::string_view base, CallOp& op) {
  op.kind = OpKind::type_create;
  op.new_type = i32(s, "newtype", -1);
  auto single = [&](std::int64_t elements) {
    op.old_types = {i32(s, "oldtype", -1)};
    op.type_elements = {elements};
  };
  auto sum = [](const std::vector<std::int64_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::int64_t{0});
  };
  if (base == "Type_contiguous") {
    single(s.value("count"));
  } else if (base == "Type_vector" || base == "Type_hvector" || base == "Type_create_hvector") {
    single(s.value("count") * s.value("blocklength"));
  } else if (base == "Type_indexed" || base == "Type_hindexed" || base == "Type_create_hindexed") {
    single(sum(values(s, "array_of_blocklengths")));
  } else if (base == "Type_create_indexed_block" || base == "Type_create_hindexed_block") {
    single(s.value("count") * s.value("blocklength"));
  } else if (base == "Type_create_struct" || base == "Type_struct") {
    op.old_types = int_values(s, "array_of_types");
    op.type_elements = values(s, "array_of_blocklengths");
    op.type_elements.resize(op.old_types.size(), 0);
  } else if (base == "Type_create_subarray") {
    auto sub = values(s, "array_of_subsizes");
    single(std::accumulate(sub.begin(), sub.end(), std::int64_t{1}, std::multiplies<>()));
  } else if (base == "Type_create_darray") {
    // Each process holds about gsizes / size of the global array.
    auto g = values(s, "array_of_gsizes");
    std::int64_t total = std::accumulate(g.begin(), g.end(), std::int64_t{1}, std::multiplies<>());
    single(total / std::max<std::int64_t>(1, s.value("size", 1)));
  } else if (base == "Type_dup" || base == "Type_create_resized") {
    single(1);
  } else {
    // f90 and match-size types: no element count recorded; their size stays unknown.
    op.old_types.clear();
  }
}

}  // namespace

std::vector<Signature> decode_signatures(const PilgrimTrace& trace) {
  std::vector<Signature> out;
  out.reserve(trace.signatures.size());
  for (int t = 0; t < static_cast<int>(trace.signatures.size()); ++t)
    out.push_back(decode_signature(trace.key(t), trace.version.thread_ids));
  return out;
}

CallOp compile_call(const Signature& s) {
  CallOp op;
  op.function = s.function;
  std::string_view name = function_name(s.function);
  if (name.empty() || !s.ok()) return op;
  std::string_view base = name.substr(4);  // after "MPI_"

  auto p2p_send = [&] {
    op.dest = i32(s, "dest");
    op.send_tag = i32(s, "tag");
    op.send_count = s.value("count");
    op.send_type = i32(s, "datatype", -1);
    op.comm = i32(s, "comm", kCommWorld);
  };
  auto p2p_recv = [&] {
    op.source = i32(s, "source");
    op.recv_tag = i32(s, "tag");
    op.recv_count = s.value("count");
    op.recv_type = i32(s, "datatype", -1);
    op.comm = i32(s, "comm", kCommWorld);
  };

  if (base == "Send" || base == "Bsend" || base == "Rsend" || base == "Ssend") {
    op.kind = OpKind::send;
    op.synchronous = base == "Ssend";
    p2p_send();
  } else if (base == "Isend" || base == "Ibsend" || base == "Irsend" || base == "Issend") {
    op.kind = OpKind::isend;
    op.synchronous = base == "Issend";
    p2p_send();
    op.tracked = base == "Isend";
    op.request = op.tracked ? i32(s, "request", kUntrackedRequest) : kUntrackedRequest;
  } else if (base == "Recv" || base == "Mrecv") {
    op.kind = base == "Recv" ? OpKind::recv : OpKind::local;
    p2p_recv();
  } else if (base == "Irecv") {
    op.kind = OpKind::irecv;
    p2p_recv();
    op.tracked = true;
    op.request = i32(s, "request", kUntrackedRequest);
  } else if (base == "Sendrecv" || base == "Sendrecv_replace") {
    op.kind = OpKind::sendrecv;
    op.dest = i32(s, "dest");
    op.source = i32(s, "source");
    op.send_tag = i32(s, "sendtag");
    op.recv_tag = i32(s, "recvtag");
    op.comm = i32(s, "comm", kCommWorld);
    if (base == "Sendrecv") {
      op.send_count = s.value("sendcount");
      op.send_type = i32(s, "sendtype", -1);
      op.recv_count = s.value("recvcount");
      op.recv_type = i32(s, "recvtype", -1);
    } else {
      op.send_count = op.recv_count = s.value("count");
      op.send_type = op.recv_type = i32(s, "datatype", -1);
    }
  } else if (base == "Wait" || base == "Test") {
    op.kind = OpKind::wait;
    op.requests = {i32(s, "request", kUntrackedRequest)};
    op.completion = (base == "Wait" || s.value("flag", 1) != 0) ? Completion::all : Completion::none;
  } else if (base == "Waitall" || base == "Testall") {
    op.kind = OpKind::wait;
    op.requests = int_values(s, "array_of_requests");
    op.completion = (base == "Waitall" || s.value("flag", 1) != 0) ? Completion::all : Completion::none;
  } else if (base == "Waitany" || base == "Testany") {
    op.kind = OpKind::wait;
    op.requests = int_values(s, "array_of_requests");
    // MPI_UNDEFINED index: every request was inactive, nothing to wait for.
    bool found =
        base == "Waitany" ? s.value("index", 0) >= 0 : s.value("flag", 0) != 0 && s.value("index", 0) >= 0;
    op.completion = found ? Completion::any : Completion::none;
  } else if (base == "Waitsome" || base == "Testsome") {
    op.kind = OpKind::wait;
    op.requests = int_values(s, "array_of_requests");
    op.outcount = i32(s, "outcount", 0);
    op.completion = op.outcount > 0 ? Completion::some : Completion::none;
  } else if (base == "Probe" || base == "Iprobe" || base == "Mprobe" || base == "Improbe") {
    bool found = (base == "Probe" || base == "Mprobe") || s.value("flag", 0) != 0;
    op.kind = found ? OpKind::probe : OpKind::local;
    op.source = i32(s, "source");
    op.recv_tag = i32(s, "tag");
    op.comm = i32(s, "comm", kCommWorld);
  } else if (base == "Send_init" || base == "Bsend_init" || base == "Rsend_init" || base == "Ssend_init") {
    op.kind = OpKind::persistent_init;
    op.synchronous = base == "Ssend_init";
    p2p_send();
    op.request = kUntrackedRequest;
  } else if (base == "Recv_init") {
    op.kind = OpKind::persistent_init;
    p2p_recv();
    op.tracked = true;
    op.request = i32(s, "request", kUntrackedRequest);
  } else if (base == "Start") {
    op.kind = OpKind::start;
    op.outcount = 1;
  } else if (base == "Startall") {
    op.kind = OpKind::start;
    op.outcount = i32(s, "count", 0);
  } else if (base == "Request_free") {
    op.kind = OpKind::request_free;
    op.requests = {i32(s, "request", kUntrackedRequest)};
  } else if (base == "Cancel") {
    op.kind = OpKind::cancel;
  } else if (base == "Comm_split" || base == "Comm_dup" || base == "Comm_create" ||
             base == "Comm_split_type" || base == "Comm_dup_with_info" || base == "Comm_create_group" ||
             base == "Comm_idup") {
    op.kind = OpKind::comm_create;
    op.comm = parent_comm(s);
    op.new_comm = i32(s, "newcomm", kCommNull);
  } else if (base == "Cart_create") {
    op.kind = OpKind::comm_create;
    op.comm = parent_comm(s);
    op.new_comm = i32(s, "comm_cart", kCommNull);
    op.dims = values(s, "dims");
    op.periods_or_remain = values(s, "periods");
  } else if (base == "Cart_sub") {
    op.kind = OpKind::comm_create;
    op.comm = i32(s, "comm", kCommWorld);
    op.new_comm = i32(s, "newcomm", kCommNull);
    op.periods_or_remain = values(s, "remain_dims");
  } else if (base == "Comm_free" || base == "Comm_disconnect") {
    op.kind = OpKind::comm_free;
    op.comm = i32(s, "comm", kCommNull);
  } else if (base.starts_with("Type_create") || base == "Type_contiguous" || base == "Type_vector" ||
             base == "Type_hvector" || base == "Type_indexed" || base == "Type_hindexed" ||
             base == "Type_dup" || base == "Type_struct" || base == "Type_match_size") {
    if (base == "Type_create_keyval") return op;
    compile_type(s, base, op);
  } else if (base == "Type_free") {
    op.kind = OpKind::type_free;
    op.send_type = i32(s, "datatype", -1);
  } else {
    bool nonblocking = base.size() > 1 && base[0] == 'I' && base != "Iprobe" && base != "Improbe" &&
                       base != "Init" && base != "Initialized" && base != "Info_create";
    std::string_view coll = nonblocking ? base.substr(1) : base;
    for (const auto& c : kCollectives) {
      if (c.name == coll) {
        compile_collective(s, c.collective, op);
        op.nonblocking = nonblocking;
        op.request = kUntrackedRequest;
        break;
      }
    }
  }
  return op;
}

int CommGroup::local_rank_of(int world_rank) const {
  auto it = std::find(members.begin(), members.end(), world_rank);
  return it == members.end() ? -1 : static_cast<int>(it - members.begin());
}

CommMap load_comm_map(const std::string& file, int ranks) {
  CommMap map;
  map.file = file;
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw core::InputError(core::Location{file, 0, 0}, "cannot read the communicator file");
  } catch (const YAML::Exception& e) {
    throw core::InputError(core::Location{file, e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
  core::Diagnostics diag;
  auto loc = [&](const YAML::Node& n) { return core::location_of(file, n); };
  if (!root.IsMap())
    throw core::InputError(loc(root), "expected a mapping with 'format' and 'communicators'");
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = it->first.as<std::string>();
    if (key != "format" && key != "communicators")
      diag.error(loc(it->first), "", "", key,
                 "unknown key" + core::did_you_mean(key, {"format", "communicators"}));
  }
  if (!root["format"] || root["format"].as<std::string>("") != "whatif-mpi-comms/1")
    diag.error(loc(root["format"] ? root["format"] : root), "", "", "format", "must be 'whatif-mpi-comms/1'");
  const YAML::Node list = root["communicators"];
  if (!list || !list.IsSequence()) {
    diag.error(loc(list ? list : root), "", "", "communicators", "expected a list of {id, groups}");
    diag.throw_if_errors();
  }
  for (const YAML::Node& entry : list) {
    if (!entry.IsMap() || !entry["id"] || !entry["groups"] || !entry["groups"].IsSequence()) {
      diag.error(loc(entry), "communicator", "", "", "expected {id: N, groups: [[world ranks], ...]}");
      continue;
    }
    int id = -1;
    try {
      id = entry["id"].as<int>();
    } catch (const YAML::Exception&) {
    }
    if (id < 0) {
      diag.error(loc(entry["id"]), "communicator", "", "id", "expected an integer >= 0 (Pilgrim's id)");
      continue;
    }
    std::set<int> seen;
    std::vector<std::vector<int>> groups;
    for (const YAML::Node& g : entry["groups"]) {
      std::vector<int> members;
      bool good = g.IsSequence();
      if (good) {
        for (const YAML::Node& m : g) {
          int r = -1;
          try {
            r = m.as<int>();
          } catch (const YAML::Exception&) {
          }
          if (r < 0 || r >= ranks) {
            diag.error(loc(m), "communicator", std::to_string(id), "groups",
                       fmt::format("'{}' is not a world rank of this {}-rank trace", m.Scalar(), ranks));
            good = false;
          } else if (!seen.insert(r).second) {
            diag.error(loc(m), "communicator", std::to_string(id), "groups",
                       fmt::format("rank {} is in two groups", r));
            good = false;
          } else {
            members.push_back(r);
          }
        }
      } else {
        diag.error(loc(g), "communicator", std::to_string(id), "groups",
                   "each group is a list of world ranks");
      }
      if (good) groups.push_back(std::move(members));
    }
    if (map.groups_by_id.count(id))
      diag.error(loc(entry["id"]), "communicator", std::to_string(id), "id", "listed twice");
    map.groups_by_id[id] = std::move(groups);
  }
  diag.throw_if_errors();
  return map;
}

CommRegistry::CommRegistry(int ranks, const CommMap* map) : ranks_(ranks), map_(map) {
  auto world = std::make_shared<CommGroup>();
  world->context = next_context_++;
  world->members.resize(static_cast<std::size_t>(ranks));
  std::iota(world->members.begin(), world->members.end(), 0);
  world_ = world;
  for (int r = 0; r < ranks; ++r) {
    auto self = std::make_shared<CommGroup>();
    self->context = next_context_++;
    self->members = {r};
    selves_.push_back(self);
  }
}

std::shared_ptr<const CommGroup> CommRegistry::self(int rank) const {
  return selves_.at(static_cast<std::size_t>(rank));
}

std::shared_ptr<const CommGroup> CommRegistry::group(int parent_context, int sequence,
                                                     std::vector<int> members) {
  auto key = std::make_tuple(parent_context, sequence, members);
  auto it = groups_.find(key);
  if (it != groups_.end()) return it->second;
  auto g = std::make_shared<CommGroup>();
  g->context = next_context_++;
  g->members = std::move(members);
  groups_.emplace(std::move(key), g);
  return g;
}

RankState::RankState(int rank, CommRegistry& registry) : rank_(rank), registry_(registry) {}

void RankState::note(std::string text) {
  if (std::find(noted_.begin(), noted_.end(), text) != noted_.end()) return;
  noted_.push_back(text);
  notes_.push_back(std::move(text));
}

std::int64_t RankState::bytes(std::int64_t count, int type) {
  if (count <= 0) return 0;
  std::int64_t size = 0;
  if (type < 0) {
    size = builtin_datatype_size(type);
    if (size == 0) {
      note(fmt::format("datatype {} has no known size; counted as 1 byte per element", datatype_name(type)));
      size = 1;
    }
  } else {
    auto it = type_sizes_.find(type);
    if (it == type_sizes_.end() || it->second < 0) {
      note(fmt::format(
          "user datatype {} was not built from recorded Type_* calls; counted as 1 byte per element", type));
      size = 1;
    } else {
      size = it->second;
    }
  }
  return count * size;
}

const CommGroup& RankState::comm(int id) {
  if (id == kCommWorld) return *registry_.world();
  if (id == kCommSelf) return *registry_.self(rank_);
  auto it = comms_.find(id);
  if (it != comms_.end()) return *it->second;
  note(fmt::format("communicator {} was used before any recorded creation; taken as MPI_COMM_WORLD", id));
  return *registry_.world();
}

int RankState::world_peer(int comm_id, std::int32_t encoded) {
  if (encoded == kAnySource) return kAnySource;
  if (encoded == kProcNull) return -1;
  const CommGroup& g = comm(comm_id);
  // The wrappers subtract the communicator-local peer from the caller's world rank.
  long local = static_cast<long>(rank_) - encoded;
  if (local < 0 || local >= static_cast<long>(g.members.size())) return -2;
  return g.members[static_cast<std::size_t>(local)];
}

bool RankState::apply(const CallOp& op) {
  switch (op.kind) {
    case OpKind::type_create: {
      if (op.new_type < 0) return true;
      if (op.old_types.empty()) {
        type_sizes_[op.new_type] = -1;
        return true;
      }
      std::int64_t size = 0;
      for (std::size_t i = 0; i < op.old_types.size(); ++i) {
        int old = op.old_types[i];
        std::int64_t element = 0;
        if (old < 0) {
          element = builtin_datatype_size(old);
        } else if (auto it = type_sizes_.find(old); it != type_sizes_.end()) {
          element = it->second;
        } else {
          element = -1;
        }
        if (element < 0) {
          size = -1;
          break;
        }
        size += element * op.type_elements[i];
      }
      type_sizes_[op.new_type] = size;
      return true;
    }
    case OpKind::type_free:
      type_sizes_.erase(op.send_type);
      return true;
    case OpKind::comm_free:
      comms_.erase(op.comm);
      return true;
    case OpKind::comm_create: {
      if (op.new_comm < 0) return true;  // MPI_COMM_NULL (not a member, e.g. outside a Cartesian grid)
      const CommGroup& parent = comm(op.comm);
      int sequence = created_from_[parent.context]++;
      std::vector<int> members;
      std::string_view name = function_name(op.function);
      const CommMap* map = registry_.map();
      auto mapped = map ? map->groups_by_id.find(op.new_comm) : decltype(map->groups_by_id.end()){};
      if (map && mapped != map->groups_by_id.end()) {
        for (const auto& g : mapped->second)
          if (std::find(g.begin(), g.end(), rank_) != g.end()) members = g;
        if (members.empty()) {
          note(fmt::format("{} lists communicator {} without rank {}; it keeps its parent's members",
                           map->file, op.new_comm, rank_));
          members = parent.members;
        }
      } else if (name == "MPI_Cart_create" && !op.dims.empty()) {
        std::int64_t size = 1;
        for (auto d : op.dims)
          size *= std::max<std::int64_t>(d, 1);
        members.assign(parent.members.begin(),
                       parent.members.begin() + std::min<std::int64_t>(size, std::ssize(parent.members)));
      } else if (name == "MPI_Cart_sub" && !op.periods_or_remain.empty() && cart_dims_.count(op.comm)) {
        // Exact: the ranks of the parent grid that share this rank's coordinates in the dropped dimensions.
        const auto& dims = cart_dims_.at(op.comm);
        int me = parent.local_rank_of(rank_);
        auto coords = [&](int local) {
          std::vector<std::int64_t> c(dims.size());
          for (std::size_t d = dims.size(); d-- > 0;) {
            c[d] = local % dims[d];
            local = static_cast<int>(local / dims[d]);
          }
          return c;
        };
        auto mine = coords(me);
        for (int l = 0; l < static_cast<int>(parent.members.size()); ++l) {
          auto c = coords(l);
          bool same = true;
          for (std::size_t d = 0; d < dims.size() && d < op.periods_or_remain.size(); ++d)
            if (op.periods_or_remain[d] == 0 && c[d] != mine[d]) same = false;
          if (same) members.push_back(parent.members[static_cast<std::size_t>(l)]);
        }
      } else {
        if (name != "MPI_Comm_dup" && name != "MPI_Comm_dup_with_info" && name != "MPI_Comm_idup")
          note(
              fmt::format("{} does not record its members: the new communicators keep their parent's members "
                          "(describe them with --comms FILE)",
                          name));
        members = parent.members;
      }
      if (std::find(members.begin(), members.end(), rank_) == members.end()) members = parent.members;
      comms_[op.new_comm] = registry_.group(parent.context, sequence, std::move(members));
      if (name == "MPI_Cart_create") cart_dims_[op.new_comm] = op.dims;
      return true;
    }
    default:
      return false;
  }
}

}  // namespace whatif::mpi
