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

// How the messages crossing stage boundaries are told apart. When every device receives from each neighbour
// in the order that neighbour sends (GPipe, 1F1B, and whatever else the check finds), one FIFO mailbox per
// pair of devices suffices; otherwise each message gets its own tag, (pipeline, stage it leaves, direction,
// micro-batch), at the price of a mailbox per message (hundreds of thousands for large pipelines).
class BoundaryTags {
 public:
  explicit BoundaryTags(const Schedule& s);
  bool fifo() const { return fifo_; }
  int tag(int pipeline, int from_stage, StepKind kind, int micro_batch) const;

 private:
  const Schedule& s_;
  bool fifo_ = false;
};

// Runs the schedule on the built platform and returns what the executor returns, measured on the simulated
// timeline: every step's start and end, the makespan, busy time, bubbles and activations in flight. With
// free communication it equals execute_schedule() exactly (a test holds it to that). Throws
// sim::SimulationError on deadlock and core::InputError when a host is missing.
ExecutionResult run_pipeline(const PipelineRunInput& input, sim::SimEngine& engine);

// Fills makespan, busy time, bubbles and activations in flight from the timings of a simulated schedule.
void summarise_timings(const Schedule& s, ExecutionResult& result);

// A benchmark of the runner for `whatif bench engine`: a 2-stage pipeline (GPipe or 1F1B) over the two given
// hosts with about `activities` executions and messages; returns how many it performed.
long bench_pipeline(ScheduleKind kind, const std::vector<std::string>& hosts, long activities,
                    sim::SimEngine& engine);

}  // namespace whatif::training
