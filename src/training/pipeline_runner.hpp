// The pipeline runner: one SimGrid actor per pipeline device plays its schedule; forwards and backwards are
// executions on the device's GPU host, activations and gradients are messages between consecutive stages.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "training/schedule.hpp"

#include "sim/comm.hpp"

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

// What a pipeline device sends to its neighbours. With tags, one asynchronous send per message. In FIFO mode
// (messages between two devices received in the order they are sent), a message goes out as an asynchronous
// send when none before it to that destination is undelivered; otherwise a courier actor posts it after them,
// one blocking send at a time. Either way it leaves when the stage produces it or when the previous one has
// been received, whichever is later, which the receiver, taking them in that order, cannot tell from one
// asynchronous send each; but a mailbox never holds more than two undelivered messages. SimGrid 3.32 scans a
// mailbox's undelivered messages on every send, and a GPipe stage feeding a slower one piles up hundreds
// (64 stages x 2 048 micro-batches ran 40 % slower). Used from inside the device's actor; finish() before
// the actor ends.
class StageOutbox {
 public:
  StageOutbox(sim::Communicator& comm, int rank, bool fifo);
  ~StageOutbox();
  void send(int dst, std::uint64_t bytes, int tag);
  void finish();

 private:
  class Lane;
  sim::Communicator& comm_;
  int rank_;
  bool fifo_;
  std::map<int, std::unique_ptr<Lane>> lanes_;  // FIFO mode, by destination
  std::vector<sim::Request> sends_;
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
