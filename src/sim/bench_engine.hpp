// Engine benchmark: SimGrid's raw actor ping-pong against the same messages sent through whatif's sim layer.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace whatif::sim {

// Another layer's traffic measured against the same baseline: `run` spawns its actors on the two benchmark
// hosts (kBenchHosts), runs the engine, and returns how many activities (executions and messages) it
// performed.
struct BenchPhase {
  std::string name;
  std::function<long(const std::vector<std::string>& hosts)> run;
};

struct BenchPhaseResult {
  std::string name;
  long activities = 0;
  double seconds = 0.0, per_second = 0.0, ratio = 0.0;  // ratio to the raw ping-pong
};

struct EngineBenchResult {
  long activities = 0;          // messages exchanged in each measured phase
  double raw_seconds = 0.0;     // wall time of the raw s4u phase
  double sim_seconds = 0.0;     // wall time of the Communicator phase
  double raw_per_second = 0.0;  // activities per wall second
  double sim_per_second = 0.0;
  double ratio = 0.0;  // sim_per_second / raw_per_second; the sim layer aims at >= 0.8
  std::vector<BenchPhaseResult> phases;
};

// Ping-pongs `activities` messages (rounded down to even, at least 2) between two hosts of a tiny platform,
// first with raw s4u Mailbox put/get, then with Communicator send/recv, on one engine. Each phase runs once
// unmeasured (warm-up) and then kRepeats times alternately (extra phases alternate with the raw ping-pong
// too); the fastest run of each phase counts, which keeps a busy machine's noise out of the ratio. Must be
// the process's only simulation: it creates the engine when none exists and its own platform; throws
// std::logic_error when a platform already exists and std::invalid_argument when activities < 2.
EngineBenchResult bench_engine(long activities, const std::vector<BenchPhase>& phases = {});

}  // namespace whatif::sim
