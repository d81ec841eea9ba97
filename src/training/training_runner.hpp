// Simulates training iterations of a TrainingSpec on the built platform (symmetric mode) and reports them.
#pragma once

#include "report/workload_output.hpp"
#include "platform/spec.hpp"
#include "training/workload.hpp"

namespace whatif::sim {
class SimEngine;
}

namespace whatif::training {

// Symmetric mode: one data-parallel replica's pipeline runs on SimGrid actors, one tensor rank standing for
// its group; every tensor-parallel, pipeline-gather and data-parallel collective is first simulated once on
// its real group of GPUs (a probe) and its time then charged where it occurs. Exact for platforms whose
// replicas and tensor groups are alike, which is what DGX-style clusters are.
report::WorkloadOutput run_training(const TrainingSpec& spec, const platform::PlatformSpec& platform,
                                    sim::SimEngine& engine);

}  // namespace whatif::training
