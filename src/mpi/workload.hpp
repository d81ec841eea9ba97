// Workload kind `mpi-replay`: a Pilgrim trace replayed on the experiment's platform.
#pragma once

#include <string>
#include <yaml-cpp/yaml.h>

#include "core/yaml.hpp"
#include "mpi/pilgrim.hpp"
#include "mpi/replay.hpp"
#include "platform/spec.hpp"
#include "report/workload_output.hpp"
#include "sim/engine.hpp"

namespace whatif::mpi {

struct MpiReplaySpec {
  std::string trace_dir;
  PilgrimTrace trace;
  ReplayOptions options;
};

// Reads and checks the workload mapping and the trace it names (paths relative to the experiment file);
// problems go to scope.diag.
MpiReplaySpec parse_mpi_replay(const YAML::Node& workload, const core::Scope& scope,
                               const platform::PlatformSpec& platform);

// Replays on the built platform. Metrics: run_time_s (with the launch overhead), application_time_s, calls,
// messages, and per-rank time in computation, point-to-point, collectives and waiting (table ranks.csv).
report::WorkloadOutput run_mpi_replay(const MpiReplaySpec& spec, const platform::PlatformSpec& platform,
                                      sim::SimEngine& engine);

}  // namespace whatif::mpi
