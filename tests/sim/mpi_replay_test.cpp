// MPI replay on hand-built Pilgrim traces and a round-number platform (tests/data/platforms/mpi-smp.yaml:
// messages between ranks cost 1us + bytes / 1GBps), one engine per process.
#include <gtest/gtest.h>

#include <filesystem>
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

// Key of a Send/Recv/Isend/Irecv from `me` to/from world rank `peer` (kAnySource for the wildcard).
std::vector<std::uint8_t> p2p(int function, int me, int peer, int tag, std::int64_t bytes, int request = -1) {
  Signature s;
  s.function = function;
  bool sending = function == fid::send || function == fid::isend;
  int encoded = peer == kAnySource ? kAnySource : me - peer;
  s.args = {
      arg("buf", ArgKind::pointer, {}),          arg("count", ArgKind::int32, {bytes}),
      arg("datatype", ArgKind::datatype, {-14}), arg(sending ? "dest" : "source", ArgKind::peer, {encoded}),
      arg("tag", ArgKind::tag, {tag}),           arg("comm", ArgKind::comm, {kCommWorld})};
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

// A trace whose rank r plays calls[r] (terminal ids into keys) once each, with `gap` of compute before each.
fs::path write(const std::string& name, std::vector<std::vector<std::uint8_t>> keys,
               const std::vector<std::vector<int>>& calls, double gap = 0) {
  fs::path dir = fs::temp_directory_path() / ("whatif-mpi-replay-test-" + name);
  fs::remove_all(dir);
  TraceToWrite t;
  t.ranks = static_cast<int>(calls.size());
  t.keys = std::move(keys);
  t.timing = TimingMode::lossless;
  for (std::size_t r = 0; r < calls.size(); ++r) {
    std::vector<GrammarSymbol> main;
    for (int c : calls[r])
      main.push_back({c, 1});
    t.grammars.push_back({main});
    t.grammar_of_rank.push_back(static_cast<int>(r));
    std::vector<CallTime> times;
    double now = 0;
    for (std::size_t i = 0; i < calls[r].size(); ++i) {
      now += gap;
      times.push_back({now, now});
    }
    t.times.push_back(times);
  }
  write_pilgrim_trace(dir, t);
  return dir;
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

}  // namespace
}  // namespace whatif::mpi

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  whatif::sim::SimEngine engine;
  whatif::mpi::the_engine = &engine;
  return RUN_ALL_TESTS();
}
