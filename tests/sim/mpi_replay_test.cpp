// MPI replay on hand-built Pilgrim traces and a round-number platform (tests/data/platforms/mpi-smp.yaml:
// messages between ranks cost 1us + bytes / 1GBps), one engine per process.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mpi/functions.hpp"
#include "mpi/pilgrim_writer.hpp"
#include "mpi/replay.hpp"
#include "mpi/signature.hpp"
#include "mpi/synthetic.hpp"
#include "platform/builder.hpp"
#include "sim/engine.hpp"

namespace whatif::mpi {
sim::SimEngine* the_engine = nullptr;
namespace {

namespace fs = std::filesystem;

constexpr double kAlpha = 1e-6, kBeta = 1e9;

Arg arg(std::string_view name, ArgKind kind, std::vector<std::int64_t> v) {
  return {name, kind, std::move(v), {}, 0, 0};
}

// Key of a Send/Recv/Isend/Irecv from `me` (world rank) to/from `peer` (kAnySource for the wildcard). Pilgrim
// records the peer as the caller's WORLD rank minus the communicator-LOCAL peer, so on a split communicator
// `peer` is the local rank.
std::vector<std::uint8_t> p2p(int function, int me, int peer, int tag, std::int64_t bytes, int request = -1,
                              int comm = kCommWorld) {
  Signature s;
  s.function = function;
  bool sending = function == fid::send || function == fid::isend;
  int encoded = peer == kAnySource ? kAnySource : me - peer;
  s.args = {
      arg("buf", ArgKind::pointer, {}),          arg("count", ArgKind::int32, {bytes}),
      arg("datatype", ArgKind::datatype, {-14}), arg(sending ? "dest" : "source", ArgKind::peer, {encoded}),
      arg("tag", ArgKind::tag, {tag}),           arg("comm", ArgKind::comm, {comm})};
  if (function == fid::recv) s.args.push_back(arg("status", ArgKind::status, {0, 0}));
  if (function == fid::isend || function == fid::irecv)
    s.args.push_back(arg("request", ArgKind::request, {request}));
  return encode_signature(s);
}

std::vector<std::uint8_t> wait(int request) {
  Signature s;
  s.function = fid::wait;
  s.args = {arg("request", ArgKind::request, {request}), arg("status", ArgKind::status, {0, 0})};
  return encode_signature(s);
}

// MPI_UNDEFINED as MPICH defines it: the index of a Testany/Waitany that found no active request.
constexpr int kUndefined = -32766;

// Any call: its id and arguments in the order of its layout (src/mpi/signature_layouts.cpp).
std::vector<std::uint8_t> call(int function, std::vector<Arg> args) {
  Signature s;
  s.function = function;
  s.args = std::move(args);
  return encode_signature(s);
}

// Request arrays are written as given: Pilgrim stores them sorted descending, so the tests pass them that
// way.
Arg requests(std::vector<std::int64_t> ids) {
  return arg("array_of_requests", ArgKind::request_array, std::move(ids));
}

Arg statuses(std::size_t n) {
  return arg("array_of_statuses", ArgKind::status_array, std::vector<std::int64_t>(2 * n, 0));
}

std::vector<std::uint8_t> waitall(std::vector<std::int64_t> ids) {
  auto n = static_cast<std::int64_t>(ids.size());
  return call(fid::waitall, {arg("count", ArgKind::int32, {n}), requests(std::move(ids)),
                             statuses(static_cast<std::size_t>(n))});
}

// Waitany completed array_of_requests[index] of the array as the program passed it (not the sorted one).
std::vector<std::uint8_t> waitany(std::vector<std::int64_t> ids, int index) {
  auto n = static_cast<std::int64_t>(ids.size());
  return call(fid::waitany, {arg("count", ArgKind::int32, {n}), requests(std::move(ids)),
                             arg("index", ArgKind::int32, {index}), arg("status", ArgKind::status, {0, 0})});
}

std::vector<std::uint8_t> waitsome(std::vector<std::int64_t> ids, std::vector<std::int64_t> indices) {
  auto n = static_cast<std::int64_t>(ids.size());
  auto out = static_cast<std::int64_t>(indices.size());
  return call(fid::waitsome, {arg("incount", ArgKind::int32, {n}), requests(std::move(ids)),
                              arg("outcount", ArgKind::int32, {out}),
                              arg("array_of_indices", ArgKind::int32_array, std::move(indices)),
                              statuses(static_cast<std::size_t>(out))});
}

// MPI_Test: flag is what the traced call returned.
std::vector<std::uint8_t> test_call(int request, int flag) {
  return call(fid::test, {arg("request", ArgKind::request, {request}), arg("flag", ArgKind::int32, {flag}),
                          arg("status", ArgKind::status, {0, 0})});
}

// MPI_Testany: a call that found nothing records flag 0 and index MPI_UNDEFINED and no status (the wrapper
// keeps the status only for a defined index).
std::vector<std::uint8_t> testany(std::vector<std::int64_t> ids, int index, int flag) {
  auto n = static_cast<std::int64_t>(ids.size());
  std::vector<Arg> args = {arg("count", ArgKind::int32, {n}), requests(std::move(ids)),
                           arg("index", ArgKind::int32, {index}), arg("flag", ArgKind::int32, {flag})};
  if (index != kUndefined) args.push_back(arg("status", ArgKind::status, {0, 0}));
  return call(fid::testany, std::move(args));
}

// MPI_Testall that found some request incomplete: flag 0, no statuses.
std::vector<std::uint8_t> testall_none(std::vector<std::int64_t> ids) {
  auto n = static_cast<std::int64_t>(ids.size());
  return call(fid::testall, {arg("count", ArgKind::int32, {n}), requests(std::move(ids)),
                             arg("flag", ArgKind::int32, {0})});
}

// MPI_Testsome that found nothing: outcount 0 (in its 8-byte slot), no indices or statuses.
std::vector<std::uint8_t> testsome_none(std::vector<std::int64_t> ids) {
  auto n = static_cast<std::int64_t>(ids.size());
  return call(fid::testsome, {arg("incount", ArgKind::int32, {n}), requests(std::move(ids)),
                              arg("outcount", ArgKind::int32, {0})});
}

// MPI_Probe / MPI_Iprobe (flag: what the traced Iprobe returned) of `me` for a message from `peer`.
std::vector<std::uint8_t> probe(int me, int peer, int tag) {
  return call(fid::probe, {arg("source", ArgKind::peer, {me - peer}), arg("tag", ArgKind::tag, {tag}),
                           arg("comm", ArgKind::comm, {kCommWorld}), arg("status", ArgKind::status, {0, 0})});
}

std::vector<std::uint8_t> iprobe(int me, int peer, int tag, int flag) {
  return call(fid::iprobe, {arg("source", ArgKind::peer, {me - peer}), arg("tag", ArgKind::tag, {tag}),
                            arg("comm", ArgKind::comm, {kCommWorld}), arg("flag", ArgKind::int32, {flag}),
                            arg("status", ArgKind::status, {0, 0})});
}

// Persistent requests: Recv_init records its request id, Send_init none (it is optional in its layout).
std::vector<std::uint8_t> persistent(int function, int me, int peer, int tag, std::int64_t bytes,
                                     int request) {
  bool sending = function == fid::send_init;
  std::vector<Arg> args = {
      arg("buf", ArgKind::pointer, {}),          arg("count", ArgKind::int32, {bytes}),
      arg("datatype", ArgKind::datatype, {-14}), arg(sending ? "dest" : "source", ArgKind::peer, {me - peer}),
      arg("tag", ArgKind::tag, {tag}),           arg("comm", ArgKind::comm, {kCommWorld})};
  if (!sending) args.push_back(arg("request", ArgKind::request, {request}));
  return call(function, std::move(args));
}

// MPI_Comm_split of WORLD into user communicator `newcomm` (Pilgrim's per-rank counter); color and key are
// recorded as pattern codes that say nothing of the membership.
std::vector<std::uint8_t> comm_split(int newcomm) {
  return call(fid::comm_split,
              {arg("comm", ArgKind::comm, {kCommWorld}), arg("color", ArgKind::int32, {-99995}),
               arg("key", ArgKind::int32, {-99994}), arg("newcomm", ArgKind::comm, {newcomm})});
}

// MPI_Allreduce of `bytes` MPI_BYTEs (MPI_SUM) on communicator `comm`.
std::vector<std::uint8_t> allreduce(std::int64_t bytes, int comm) {
  return call(fid::allreduce,
              {arg("sendbuf", ArgKind::pointer, {}), arg("recvbuf", ArgKind::pointer, {}),
               arg("count", ArgKind::int32, {bytes}), arg("datatype", ArgKind::datatype, {-14}),
               arg("op", ArgKind::op, {-4}), arg("comm", ArgKind::comm, {comm})});
}

// One call of a rank: the terminal id (index into the keys) and the compute before it.
struct Call {
  int key;
  double gap = 0;
};

// A trace whose rank r plays calls[r] once each; LOSSLESS times make each call's gap the compute before it.
fs::path write_calls(const std::string& name, std::vector<std::vector<std::uint8_t>> keys,
                     const std::vector<std::vector<Call>>& calls) {
  fs::path dir = fs::temp_directory_path() / ("whatif-mpi-replay-test-" + name);
  fs::remove_all(dir);
  TraceToWrite t;
  t.ranks = static_cast<int>(calls.size());
  t.keys = std::move(keys);
  t.timing = TimingMode::lossless;
  for (std::size_t r = 0; r < calls.size(); ++r) {
    std::vector<GrammarSymbol> main;
    std::vector<CallTime> times;
    double now = 0;
    for (const Call& c : calls[r]) {
      main.push_back({c.key, 1});
      now += c.gap;
      times.push_back({now, now});
    }
    t.grammars.push_back({main});
    t.grammar_of_rank.push_back(static_cast<int>(r));
    t.times.push_back(times);
  }
  write_pilgrim_trace(dir, t);
  return dir;
}

// A trace whose rank r plays calls[r] (terminal ids into keys) once each, with `gap` of compute before each.
fs::path write(const std::string& name, std::vector<std::vector<std::uint8_t>> keys,
               const std::vector<std::vector<int>>& calls, double gap = 0) {
  std::vector<std::vector<Call>> timed;
  for (const auto& rank : calls) {
    timed.emplace_back();
    for (int c : rank)
      timed.back().push_back({c, gap});
  }
  return write_calls(name, std::move(keys), timed);
}

// A whatif-mpi-comms/1 file giving the groups of user communicator `id`.
std::string write_comms(const std::string& name, int id, const std::string& groups) {
  fs::path file = fs::temp_directory_path() / ("whatif-mpi-replay-test-" + name + "-comms.yaml");
  std::ofstream(file) << "format: whatif-mpi-comms/1\ncommunicators:\n  - {id: " << id
                      << ", groups: " << groups << "}\n";
  return file.string();
}

// True when the replay had to ignore a wait or test entry: the request bookkeeping lost track of one.
bool lost_a_request(const ReplayReport& r) {
  for (const auto& n : r.notes)
    if (n.find("nothing outstanding") != std::string::npos) return true;
  return false;
}

ReplayReport replay(const fs::path& dir, ReplayOptions options = {}) {
  sim::SimEngine& engine = *the_engine;
  platform::PlatformSpec p = platform::load_platform("tests/data/platforms/mpi-smp.yaml");
  platform::build_platform(p);
  PilgrimTrace trace = read_pilgrim_trace(dir);
  return replay_trace(trace, p, options, engine);
}

TEST(MpiReplay, PingPongByHand) {
  fs::path dir = fs::temp_directory_path() / "whatif-mpi-replay-test-pingpong";
  fs::remove_all(dir);
  write_pingpong_trace(dir, 10, 1'000'000, TimingMode::lossless, 0);
  ReplayReport r = replay(dir);
  // Barrier of 2 ranks: one exchange of empty messages (alpha); then 20 one-way messages of 1e6 B (above
  // MPICH's 64 KiB eager limit: rendezvous, but the receiver is always waiting).
  EXPECT_NEAR(r.application_time, kAlpha + 20 * (kAlpha + 1e6 / kBeta), 1e-9);
  EXPECT_EQ(r.messages, 20u);
  EXPECT_EQ(r.calls, 2u * 21u);
}

TEST(MpiReplay, ComputeGapsAreReplayedAndScaled) {
  // Rank 0: Send 1 B to 1; rank 1: Recv. Each call follows 2 ms of compute; compute_scale 0.5 halves it.
  fs::path dir = write("gaps", {p2p(fid::send, 0, 1, 0, 1), p2p(fid::recv, 1, 0, 0, 1)}, {{0}, {1}}, 2e-3);
  ReplayOptions o;
  o.compute_scale = 0.5;
  ReplayReport r = replay(dir, o);
  // Eager: rank 0 is done after its compute (1 ms); rank 1 after 1 ms of compute and the message that left
  // at 1 ms: 1 ms + 1us + 1 ns.
  EXPECT_NEAR(r.ranks[0].end, 1e-3, 1e-12);
  EXPECT_NEAR(r.ranks[1].end, 1e-3 + kAlpha + 1 / kBeta, 1e-12);
  EXPECT_NEAR(r.ranks[1].compute, 1e-3, 1e-12);
}

TEST(MpiReplay, RendezvousWaitsForTheReceiverEagerDoesNot) {
  // Rank 0 sends 100 B (eager) then 1e6 B (rendezvous) to rank 1, which receives both after 5 ms of compute
  // (its first call's gap); compute before rank 0's calls is 0.
  std::vector<std::vector<std::uint8_t>> keys = {
      p2p(fid::send, 0, 1, 7, 100), p2p(fid::send, 0, 1, 7, 1'000'000), p2p(fid::recv, 1, 0, 7, 100),
      p2p(fid::recv, 1, 0, 7, 1'000'000)};
  fs::path dir = fs::temp_directory_path() / "whatif-mpi-replay-test-rendezvous";
  fs::remove_all(dir);
  TraceToWrite t;
  t.ranks = 2;
  t.keys = keys;
  t.grammars = {{{{0, 1}, {1, 1}}}, {{{2, 1}, {3, 1}}}};
  t.grammar_of_rank = {0, 1};
  t.times = {{{0, 0}, {0, 0}}, {{5e-3, 5e-3}, {5e-3, 5e-3}}};
  write_pilgrim_trace(dir, t);
  ReplayReport r = replay(dir);
  // The eager message arrived long ago; the large one starts when rank 1 posts its receive at 5 ms.
  double large = 5e-3 + kAlpha + 1e6 / kBeta;
  EXPECT_NEAR(r.ranks[1].end, large, 1e-12);
  EXPECT_NEAR(r.ranks[0].end, large, 1e-12);  // blocked in the rendezvous send until the data is across
}

TEST(MpiReplay, WildcardsMatchInPostOrder) {
  // Rank 0: Isend tag 1 (1e3 B), Isend tag 2 (2e3 B), Wait, Wait. Rank 1: Recv(ANY_SOURCE, tag 2) then
  // Recv(0, ANY_TAG): the first takes the tag-2 message although it was sent second, the second gets tag 1.
  std::vector<std::vector<std::uint8_t>> keys = {
      p2p(fid::isend, 0, 1, 1, 1000, 0),      p2p(fid::isend, 0, 1, 2, 2000, 1),  wait(0), wait(1),
      p2p(fid::recv, 1, kAnySource, 2, 2000), p2p(fid::recv, 1, 0, kAnyTag, 1000)};
  fs::path dir = write("wildcards", keys, {{0, 1, 2, 3}, {4, 5}});
  ReplayReport r = replay(dir);
  // Both eager, both sent at t=0 and sharing the link: 3e3 B at 1 GBps: the smaller done first.
  EXPECT_GT(r.ranks[1].end, kAlpha + 2000 / kBeta);
  EXPECT_LT(r.ranks[1].end, kAlpha + 3000 / kBeta + 1e-12);
  EXPECT_EQ(r.messages, 2u);
}

TEST(MpiReplay, DeadlockNamesEachBlockedRank) {
  // Both ranks receive first: nothing is ever sent.
  fs::path dir = write("deadlock",
                       {p2p(fid::recv, 0, 1, 3, 8), p2p(fid::recv, 1, 0, 3, 8), p2p(fid::send, 0, 1, 3, 8),
                        p2p(fid::send, 1, 0, 3, 8)},
                       {{0, 2}, {1, 3}});
  try {
    replay(dir);
    FAIL() << "expected a deadlock";
  } catch (const ReplayDeadlock& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("rank 0 blocked in MPI_Recv(buf count=8 datatype=MPI_BYTE source=1 tag=3"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("rank 1 blocked in MPI_Recv"), std::string::npos) << m;
    EXPECT_NE(m.find("(call 1 of 2)"), std::string::npos) << m;
  }
}

TEST(MpiReplay, WaitanyCompletesWithTheFirstArrival) {
  // Rank 0 posts Irecv id 0 (from rank 2, tag 2) and id 1 (from rank 1, tag 1), then Waitany, then, after
  // 2.5 ms of compute, Wait on the other. Rank 2 sends 1000 B after 1 ms, rank 1 after 3 ms (eager, 64 KiB
  // limit). The recorded array is [1, 0] (sorted descending): the late request comes first in it.
  std::vector<std::vector<std::uint8_t>> keys = {
      p2p(fid::irecv, 0, 2, 2, 1000, 0),
      p2p(fid::irecv, 0, 1, 1, 1000, 1),
      waitany({1, 0}, 0),  // index 0 of the program's array [id 0, id 1]: the message of rank 2
      wait(1),
      p2p(fid::send, 1, 0, 1, 1000),
      p2p(fid::send, 2, 0, 2, 1000)};
  fs::path dir = write_calls("waitany", keys, {{{0}, {1}, {2}, {3, 2.5e-3}}, {{4, 3e-3}}, {{5, 1e-3}}});
  ReplayReport r = replay(dir);
  // Arrivals: 1 ms + 1us + 1000 B / 1GBps = 1.002 ms and 3 ms + 2us = 3.002 ms. Waitany returns with the
  // first (1.002 ms); 2.5 ms of compute take rank 0 to 3.502 ms, when the second is long there: the Wait
  // costs nothing. (Waiting for both would end at 5.502 ms, not waiting at all at 3.002 ms.)
  const double first = 1e-3 + kAlpha + 1000 / kBeta;
  EXPECT_NEAR(r.ranks[0].end, first + 2.5e-3, 1e-12);
  EXPECT_NEAR(r.ranks[0].waiting, first, 1e-12);
  EXPECT_NEAR(r.ranks[0].compute, 2.5e-3, 1e-12);
  EXPECT_NEAR(r.ranks[1].end, 3e-3, 1e-12);
  EXPECT_NEAR(r.ranks[2].end, 1e-3, 1e-12);
  EXPECT_FALSE(lost_a_request(r));
}

TEST(MpiReplay, WaitsomeAndWaitallWithSeveralRequests) {
  // Rank 0: Irecv ids 0, 1, 2 from ranks 1, 2, 3 (1000 B each, eager); Waitsome that completed 2 of them
  // (array recorded sorted descending [2, 1, 0]); 3 ms of compute; Waitall on the rest ([2, NULL, NULL]: MPI
  // sets completed entries to MPI_REQUEST_NULL). Then the same three Irecv again (Pilgrim reuses freed ids)
  // and Waitall [2, 1, 0].
  std::vector<std::vector<std::uint8_t>> keys = {p2p(fid::irecv, 0, 1, 0, 1000, 0),
                                                 p2p(fid::irecv, 0, 2, 0, 1000, 1),
                                                 p2p(fid::irecv, 0, 3, 0, 1000, 2),
                                                 waitsome({2, 1, 0}, {0, 1}),
                                                 waitall({2, kRequestNull, kRequestNull}),
                                                 waitall({2, 1, 0}),
                                                 p2p(fid::send, 1, 0, 0, 1000),
                                                 p2p(fid::send, 2, 0, 0, 1000),
                                                 p2p(fid::send, 3, 0, 0, 1000)};
  // Ranks 1, 2, 3 send at 1, 2, 4 ms, then at 6, 8, 7 ms.
  fs::path dir = write_calls("waitsome", keys,
                             {{{0}, {1}, {2}, {3}, {4, 3e-3}, {0}, {1}, {2}, {5}},
                              {{6, 1e-3}, {6, 5e-3}},
                              {{7, 2e-3}, {7, 6e-3}},
                              {{8, 4e-3}, {8, 3e-3}}});
  ReplayReport r = replay(dir);
  // Each message takes 1us + 1000 B / 1GBps = 2us. Waitsome returns with the second arrival, 2.002 ms;
  // compute to 5.002 ms; the third (4.002 ms) is there, so the first Waitall costs nothing. (Waitsome
  // returning after one arrival or none would end this phase at 4.002 ms, after all three at 7.002 ms.) The
  // second Waitall, posted at 5.002 ms, ends with the last of the arrivals at 6.002, 7.002, 8.002 ms.
  const double msg = kAlpha + 1000 / kBeta;
  EXPECT_NEAR(r.ranks[0].end, 8e-3 + msg, 1e-12);
  EXPECT_NEAR(r.ranks[0].compute, 3e-3, 1e-12);
  EXPECT_NEAR(r.ranks[0].waiting, (2e-3 + msg) + 0 + (8e-3 + msg - (5e-3 + msg)), 1e-12);
  EXPECT_EQ(r.messages, 6u);
  EXPECT_FALSE(lost_a_request(r));
}

TEST(MpiReplay, TestsThatFoundNothingTakeNoTime) {
  // program.cpp: a Test records its flag, a Testany its index and flag (index MPI_UNDEFINED and no status
  // when nothing was found), a Testall its flag, a Testsome its outcount. flag 0 / outcount 0 compile to
  // Completion::none: the replay skips the call (no time, not even the compute before it is flushed). A test
  // that found its request complete is replayed as a wait for it: it completes the request.
  // Rank 0: Irecv id 0 (from rank 1) and id 1 (from rank 2); after 1 ms each, a Testany and a Test that found
  // nothing, then Testall and Testsome that found nothing; after 1 ms a Testany that found id 1; after 1 ms
  // a Test that found id 0. Rank 2 sends 1000 B at 3.5 ms, rank 1 at 4 ms.
  std::vector<std::vector<std::uint8_t>> keys = {p2p(fid::irecv, 0, 1, 1, 1000, 0),
                                                 p2p(fid::irecv, 0, 2, 2, 1000, 1),
                                                 testany({1, 0}, kUndefined, 0),
                                                 test_call(0, 0),
                                                 testall_none({1, 0}),
                                                 testsome_none({1, 0}),
                                                 testany({1, 0}, 1, 1),
                                                 test_call(0, 1),
                                                 p2p(fid::send, 1, 0, 1, 1000),
                                                 p2p(fid::send, 2, 0, 2, 1000)};
  fs::path dir = write_calls(
      "tests", keys,
      {{{0}, {1}, {2, 1e-3}, {3, 1e-3}, {4}, {5}, {6, 1e-3}, {7, 1e-3}}, {{8, 4e-3}}, {{9, 3.5e-3}}});
  ReplayReport r = replay(dir);
  // The empty tests cost nothing: rank 0 computes 3 ms in one go and reaches the successful Testany at 3 ms;
  // the message of rank 2 arrives at 3.5 ms + 1us + 1000 B / 1GBps = 3.502 ms: the Testany waits for it.
  // 1 ms of compute later (4.502 ms) the message of rank 1 (4.002 ms) is there: the Test costs nothing.
  // (An empty test that waited would push everything past 5.5 ms; a successful Testany that did not wait
  // would end the run at 4.002 ms.)
  const double msg = kAlpha + 1000 / kBeta;
  EXPECT_NEAR(r.ranks[0].end, 3.5e-3 + msg + 1e-3, 1e-12);
  EXPECT_NEAR(r.ranks[0].compute, 4e-3, 1e-12);
  EXPECT_NEAR(r.ranks[0].waiting, 0.5e-3 + msg, 1e-12);
  EXPECT_EQ(r.ranks[0].calls, 8u);
  EXPECT_FALSE(lost_a_request(r));
}

TEST(MpiReplay, ProbeBlocksUntilAMatchingMessageArrives) {
  // Rank 1 sends 1000 B with tag 4 at 0.5 ms and with tag 5 at 2 ms. Rank 0, probing for tag 5: an Iprobe
  // that found nothing after 0.5 ms of compute, a Probe after another 0.5 ms, an Iprobe that found it, then
  // after 1 ms of compute Recv tag 5 and Recv tag 4.
  std::vector<std::vector<std::uint8_t>> keys = {iprobe(0, 1, 5, 0),
                                                 probe(0, 1, 5),
                                                 iprobe(0, 1, 5, 1),
                                                 p2p(fid::recv, 0, 1, 5, 1000),
                                                 p2p(fid::recv, 0, 1, 4, 1000),
                                                 p2p(fid::send, 1, 0, 4, 1000),
                                                 p2p(fid::send, 1, 0, 5, 1000)};
  fs::path dir = write_calls("probe", keys,
                             {{{0, 0.5e-3}, {1, 0.5e-3}, {2}, {3, 1e-3}, {4}}, {{5, 0.5e-3}, {6, 1.5e-3}}});
  ReplayReport r = replay(dir);
  // The empty Iprobe costs nothing; the Probe starts at 1 ms, ignores the tag-4 message that is already there
  // and blocks until the tag-5 one: sent at 2 ms, its data in by 2 ms + 1us + 1000 B / 1GBps = 2.002 ms (the
  // probe may return as soon as the envelope is posted, 2 ms, or when the data is in: the replay does not
  // model the envelope on its own). The Recv after 1 ms of compute finds both messages there. (A Probe that
  // did not block, or matched tag 4, would end rank 0 at 2.002 ms.)
  const double msg = kAlpha + 1000 / kBeta;
  EXPECT_GE(r.ranks[0].end, 3e-3 - 1e-12);
  EXPECT_LE(r.ranks[0].end, 3e-3 + msg + 1e-12);
  EXPECT_NEAR(r.ranks[0].compute, 2e-3, 1e-12);
  EXPECT_GE(r.ranks[0].point_to_point, 1e-3 - 1e-12);  // the Probe blocked from 1 ms to (at least) 2 ms
  EXPECT_LE(r.ranks[0].point_to_point, 1e-3 + msg + 1e-12);
  EXPECT_EQ(r.messages, 2u);
}

TEST(MpiReplay, PersistentRequestsStartedTwice) {
  // Rank 0: Recv_init id 0 (from rank 1, 1000 B) and id 1 (from rank 2, 1e6 B), then twice Startall(2) +
  // Waitall [1, 0]. Ranks 1 and 2: Send_init (no request id recorded) then twice Start + Wait(-1) (a wait
  // on an untracked request records -1). Rank 1 starts after 1 ms and 3 more ms; rank 2 after 2 ms and 2 more
  // ms. 1000 B go eagerly; 1e6 B (above 64 KiB) by rendezvous: rank 2's Wait lasts until the data is across.
  std::vector<std::vector<std::uint8_t>> keys = {persistent(fid::recv_init, 0, 1, 3, 1000, 0),
                                                 persistent(fid::recv_init, 0, 2, 3, 1'000'000, 1),
                                                 call(fid::startall, {arg("count", ArgKind::int32, {2})}),
                                                 waitall({1, 0}),
                                                 persistent(fid::send_init, 1, 0, 3, 1000, -1),
                                                 persistent(fid::send_init, 2, 0, 3, 1'000'000, -1),
                                                 call(fid::start, {}),
                                                 wait(kUntrackedRequest)};
  fs::path dir = write_calls("persistent", keys,
                             {{{0}, {1}, {2}, {3}, {2}, {3}},
                              {{4}, {6, 1e-3}, {7}, {6, 3e-3}, {7}},
                              {{5}, {6, 2e-3}, {7}, {6, 2e-3}, {7}}});
  ReplayReport r = replay(dir);
  // Round 1: 1000 B at 1 ms (in at 1.002 ms); 1e6 B from 2 ms, in at 2 ms + 1us + 1 ms = 3.001 ms, which
  // ends rank 0's Waitall and rank 2's Wait. Round 2: rank 0 restarts its receives at 3.001 ms; 1000 B at
  // 4 ms; rank 2 restarts at 3.001 + 2 = 5.001 ms, in at 6.002 ms.
  const double large = kAlpha + 1e6 / kBeta;
  const double round1 = 2e-3 + large, round2 = round1 + 2e-3 + large;
  EXPECT_NEAR(r.ranks[0].end, round2, 1e-12);
  EXPECT_NEAR(r.ranks[0].waiting, round2, 1e-12);  // the Startalls take no time
  EXPECT_NEAR(r.ranks[1].end, 4e-3, 1e-12);        // eager: its Waits return at once
  EXPECT_NEAR(r.ranks[2].end, round2, 1e-12);
  EXPECT_NEAR(r.ranks[2].compute, 4e-3, 1e-12);
  EXPECT_EQ(r.ranks[1].messages, 2u);
  EXPECT_EQ(r.ranks[2].messages, 2u);
  EXPECT_EQ(r.messages, 4u);
  EXPECT_FALSE(lost_a_request(r));
}

TEST(MpiReplay, CancelledReceiveDoesNotMatch) {
  // Rank 0: Irecv(ANY_SOURCE, tag 9) id 0, Cancel (Pilgrim records no argument), Wait id 0 (MPI completes
  // a cancelled request with a wait), then Recv(1, tag 9). Rank 1 sends 1000 B with tag 9 after 2 ms: it must
  // match the Recv, not the cancelled Irecv posted before it (which would leave the Recv blocked forever).
  std::vector<std::vector<std::uint8_t>> keys = {
      p2p(fid::irecv, 0, kAnySource, 9, 1000, 0), call(fid::cancel, {}), wait(0),
      p2p(fid::recv, 0, 1, 9, 1000), p2p(fid::send, 1, 0, 9, 1000)};
  fs::path dir = write_calls("cancel", keys, {{{0}, {1}, {2}, {3}}, {{4, 2e-3}}});
  ReplayReport r = replay(dir);  // throws ReplayDeadlock if the message went to the cancelled receive
  // The Wait on the cancelled request returns at once; the Recv gets the message at 2 ms + 1us + 1us.
  const double arrival = 2e-3 + kAlpha + 1000 / kBeta;
  EXPECT_NEAR(r.ranks[0].end, arrival, 1e-12);
  EXPECT_NEAR(r.ranks[0].waiting, 0, 1e-12);
  EXPECT_NEAR(r.ranks[0].point_to_point, arrival, 1e-12);
  EXPECT_EQ(r.messages, 1u);
  EXPECT_FALSE(lost_a_request(r));
}

TEST(MpiReplay, SplitCommunicatorCollectivesRunOnTheirOwnMembers) {
  // 4 ranks split WORLD into user communicator 0 = {0, 2} and {1, 3} (given by a comms file: the trace cannot
  // say). Ranks 0 and 2 allreduce 1000 B on it at once; ranks 1 and 3 allreduce 1e6 B after 1 ms of compute.
  std::string comms = write_comms("split-collective", 0, "[[0, 2], [1, 3]]");
  std::vector<std::vector<std::uint8_t>> keys = {comm_split(0), allreduce(1000, 0), allreduce(1'000'000, 0)};
  fs::path dir =
      write_calls("split-collective", keys, {{{0}, {1}}, {{0}, {2, 1e-3}}, {{0}, {1}}, {{0}, {2, 1e-3}}});
  ReplayOptions o;
  o.comms_file = comms;
  ReplayReport r = replay(dir, o);
  // MPICH's choice on 2 ranks: recursive doubling up to 2 KiB: one exchange of the whole buffer, both
  // directions sharing the socket's one shared-memory link: 1us + 2 x 1000 B / 1GBps = 3us. Above:
  // Rabenseifner: a reduce-scatter and an allgather step, each exchanging S/2 both ways:
  // 2 (1us + 2 x 5e5 B / 1GBps) = 2.002 ms, after the 1 ms of compute. Had the collective run on the 4 ranks
  // of WORLD, ranks 0 and 2 would have waited for ranks 1 and 3 (past 1 ms).
  const double small = kAlpha + 2 * 1000 / kBeta;
  const double large = 2 * (kAlpha + 2 * 5e5 / kBeta);
  EXPECT_NEAR(r.ranks[0].end, small, 1e-12);
  EXPECT_NEAR(r.ranks[2].end, small, 1e-12);
  EXPECT_NEAR(r.ranks[1].end, 1e-3 + large, 1e-12);
  EXPECT_NEAR(r.ranks[3].end, 1e-3 + large, 1e-12);
  EXPECT_NEAR(r.ranks[0].collectives, small, 1e-12);
  EXPECT_NEAR(r.ranks[1].collectives, large, 1e-12);
  for (const auto& n : r.notes)
    EXPECT_EQ(n.find("does not record its members"), std::string::npos) << n;
}

TEST(MpiReplay, SplitCommunicatorPeersDecodeThroughTheGroupOrder) {
  // User communicator 0 has groups [3, 1] (rank 3 is local 0, rank 1 local 1) and [0, 2]. Pilgrim records a
  // peer as the caller's WORLD rank minus the communicator-LOCAL peer: rank 3 sending to local 1 (world 1)
  // records 3 - 1 = 2, rank 1 receiving from local 0 (world 3) records 1 - 0 = 1; rank 2 sending to local 0
  // (world 0) records 2, rank 0 receiving from local 1 (world 2) records 0 - 1 = -1.
  // Rank 3 also sends 3000 B to rank 1 on WORLD with the same tag, 1 ms after its 1000 B on communicator 0;
  // rank 1 receives on WORLD first, then (after 5 ms of compute) on communicator 0: contexts keep them apart.
  std::string comms = write_comms("split-p2p", 0, "[[3, 1], [0, 2]]");
  std::vector<std::vector<std::uint8_t>> keys = {comm_split(0),
                                                 p2p(fid::send, 3, 1, 0, 1000, -1, 0),
                                                 p2p(fid::send, 3, 1, 0, 3000),
                                                 p2p(fid::recv, 1, 3, 0, 3000),
                                                 p2p(fid::recv, 1, 0, 0, 1000, -1, 0),
                                                 p2p(fid::send, 2, 0, 0, 2000, -1, 0),
                                                 p2p(fid::recv, 0, 1, 0, 2000, -1, 0)};
  fs::path dir = write_calls(
      "split-p2p", keys, {{{0}, {6}}, {{0}, {3}, {4, 5e-3}}, {{0}, {5, 3e-3}}, {{0}, {1, 1e-3}, {2, 1e-3}}});
  ReplayOptions o;
  o.comms_file = comms;
  ReplayReport r = replay(dir, o);
  // Rank 1's WORLD Recv gets the 3000 B sent at 2 ms: in at 2 ms + 1us + 3us = 2.004 ms; 5 ms later its
  // communicator-0 message (in since 1.002 ms) is there. (Had the WORLD Recv taken the communicator-0
  // message, rank 1 would end at 1.002 + 5 = 6.002 ms.) Rank 0 gets rank 2's 2000 B sent at 3 ms: 3.003 ms.
  EXPECT_NEAR(r.ranks[1].end, 2e-3 + kAlpha + 3000 / kBeta + 5e-3, 1e-12);
  EXPECT_NEAR(r.ranks[0].end, 3e-3 + kAlpha + 2000 / kBeta, 1e-12);
  EXPECT_NEAR(r.ranks[2].end, 3e-3, 1e-12);
  EXPECT_NEAR(r.ranks[3].end, 2e-3, 1e-12);
  EXPECT_EQ(r.messages, 3u);
}

TEST(MpiReplay, LargeThenSmallMessagesDoNotOvertake) {
  // Rank 0 Isends 1e6 B (rendezvous) then 100 B (eager) to rank 1, same tag and communicator, then waits for
  // both. Rank 1 receives twice with that source and tag: after 2 ms of compute, and after 5 ms more. MPI's
  // non-overtaking rule: the first Recv matches the first message although the second one's data is already
  // there.
  std::vector<std::vector<std::uint8_t>> keys = {
      p2p(fid::isend, 0, 1, 7, 1'000'000, 0), p2p(fid::isend, 0, 1, 7, 100, 1), wait(1), wait(0),
      p2p(fid::recv, 1, 0, 7, 1'000'000),     p2p(fid::recv, 1, 0, 7, 100)};
  fs::path dir = write_calls("overtaking", keys, {{{0}, {1}, {2}, {3}}, {{4, 2e-3}, {5, 5e-3}}});
  ReplayReport r = replay(dir);
  // The large transfer starts when the first Recv is posted (2 ms): in at 2 ms + 1us + 1e6 B / 1GBps =
  // 3.001 ms, which also ends rank 0's rendezvous Wait. Rank 1 then computes 5 ms; the small message arrived
  // long ago. (Had the small one overtaken, the large one would leave at 7 ms and rank 0 end at 8.001 ms.)
  const double large = 2e-3 + kAlpha + 1e6 / kBeta;
  EXPECT_NEAR(r.ranks[0].end, large, 1e-12);
  EXPECT_NEAR(r.ranks[0].waiting, large, 1e-12);
  EXPECT_NEAR(r.ranks[1].end, large + 5e-3, 1e-12);
  EXPECT_NEAR(r.ranks[1].point_to_point, kAlpha + 1e6 / kBeta, 1e-12);
}

// Pilgrim hands out request ids per (function, peer, tag, communicator), so two live receives from different
// peers can both be id 0, and a Waitall then records [0, 0]: it must wait for both, not twice for the older.
TEST(MpiReplay, WaitallWithOneIdTwiceWaitsForBothRequests) {
  std::vector<std::vector<std::uint8_t>> keys = {
      p2p(fid::irecv, 0, 1, 0, 1000, 0), p2p(fid::irecv, 0, 2, 0, 1000, 0), waitall({0, 0}),
      p2p(fid::send, 1, 0, 0, 1000), p2p(fid::send, 2, 0, 0, 1000)};
  // Rank 1 sends at 1 ms, rank 2 at 3 ms; each message takes 1us + 1000 B / 1GBps.
  fs::path dir = write_calls("waitall-same-id", keys, {{{0}, {1}, {2}}, {{3, 1e-3}}, {{4, 3e-3}}});
  ReplayReport r = replay(dir);
  // Both arrived: 3.002 ms. (Waiting twice on the older request would end rank 0 at 1.002 ms.)
  EXPECT_NEAR(r.ranks[0].end, 3e-3 + kAlpha + 1000 / kBeta, 1e-12);
  EXPECT_FALSE(lost_a_request(r));
}

// A Waitany holding a long transfer already moving and an unmatched receive returns when the receive's short
// message is in, not when the long transfer ends (the replay used to wait on the moving transfers only).
TEST(MpiReplay, WaitanyReturnsWhileAnotherTransferIsStillMoving) {
  // Rank 0: Irecv id 0 (1e6 B from rank 1, sent at 0: rendezvous, moving from 0 to about 1.002 ms), Irecv id
  // 1 (1000 B from rank 2, sent at 0.5 ms), Waitany [1, 0] (it completed index 1: id 1), then after 2 ms of
  // compute Wait id 0.
  std::vector<std::vector<std::uint8_t>> keys = {
      p2p(fid::irecv, 0, 1, 1, 1'000'000, 0), p2p(fid::irecv, 0, 2, 2, 1000, 1), waitany({1, 0}, 1), wait(0),
      p2p(fid::send, 1, 0, 1, 1'000'000),     p2p(fid::send, 2, 0, 2, 1000)};
  fs::path dir = write_calls("waitany-moving", keys, {{{0}, {1}, {2}, {3, 2e-3}}, {{4}}, {{5, 0.5e-3}}});
  ReplayReport r = replay(dir);
  // The small message is in at 0.5 ms + 1us + 1000 B at 1GBps, or at 0.5 GBps while it shares the link with
  // the large transfer: between 0.502 and 0.503 ms. Waitany returns then; 2 ms of compute later (2.502-2.503
  // ms) the large transfer is long done and the Wait costs nothing. (The replay returns from Waitany only
  // when the large transfer ends, about 1.002 ms, and ends rank 0 at about 3.002 ms.)
  const double small_alone = 0.5e-3 + kAlpha + 1000 / kBeta,
               small_shared = 0.5e-3 + kAlpha + 2 * 1000 / kBeta;
  EXPECT_GE(r.ranks[0].waiting, small_alone - 1e-12);
  EXPECT_LE(r.ranks[0].waiting, small_shared + 1e-12);
  EXPECT_GE(r.ranks[0].end, small_alone + 2e-3 - 1e-12);
  EXPECT_LE(r.ranks[0].end, small_shared + 2e-3 + 1e-12);
}

}  // namespace
}  // namespace whatif::mpi

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  whatif::sim::SimEngine engine;
  whatif::mpi::the_engine = &engine;
  return RUN_ALL_TESTS();
}
