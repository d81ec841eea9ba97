// Workload kind collective-bench: one collective over a set of GPUs or hosts, for a range of message sizes,
// reported like nccl-tests (time, algorithm bandwidth, bus bandwidth).
#pragma once

#include <yaml-cpp/yaml.h>
#include <cstdint>
#include <string>
#include <vector>

#include "core/yaml.hpp"
#include "report/workload_output.hpp"
#include "platform/spec.hpp"

namespace whatif::sim {
class SimEngine;
}

namespace whatif::experiment {

struct Participant {
  std::string host;
  long node = 0;  // global node index
};

struct CollectiveBenchSpec {
  std::string operation = "allreduce";
  std::string algorithm = "auto";
  std::string inter_node_algorithm = "auto";
  int root = 0;
  std::uint64_t chunk_bytes = 1 << 20;
  std::vector<std::uint64_t> sizes;
  std::vector<Participant> participants;
  core::Location algorithm_location;
};

// Reads and validates the workload mapping against the platform (participants must exist, sizes be sane).
CollectiveBenchSpec parse_collective_bench(const YAML::Node& workload, const core::Scope& scope,
                                           const platform::PlatformSpec& platform);

// Simulates the benchmark on the built platform (in collective_bench_runner.cpp).
report::WorkloadOutput run_collective_bench(const CollectiveBenchSpec& spec, sim::SimEngine& engine);

}  // namespace whatif::experiment
