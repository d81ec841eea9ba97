// The pipeline runner: one SimGrid actor per pipeline device plays its schedule; forwards and backwards are
// executions on the device's GPU host, activations and gradients are messages between consecutive stages.
#pragma once

#include <string>
#include <vector>

#include "training/schedule.hpp"

namespace whatif::sim {
class SimEngine;
}

namespace whatif::training {

struct PipelineRunInput {
  const Schedule* schedule = nullptr;
  std::vector<std::string> device_hosts;  // GPU host of each pipeline device, 0..devices-1
  StepCost cost;                          // seconds per forward / backward step of each global stage
  double boundary_bytes = 0;              // activation (forward) or gradient (backward) sent between stages
};

// The tag of the message crossing a stage boundary: (pipeline, stage it leaves, direction, micro-batch).
int boundary_tag(const Schedule& s, int pipeline, int from_stage, StepKind kind, int micro_batch);

// Runs the schedule on the built platform and returns what the executor returns, measured on the simulated
// timeline: every step's start and end, the makespan, busy time, bubbles and activations in flight. With
// free communication it equals execute_schedule() exactly (a test holds it to that). Throws
// sim::SimulationError on deadlock and core::InputError when a host is missing.
ExecutionResult run_pipeline(const PipelineRunInput& input, sim::SimEngine& engine);

}  // namespace whatif::training
