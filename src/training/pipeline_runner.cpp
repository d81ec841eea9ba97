// Pipeline runner on SimGrid actors: receive the input of a step, execute it, pass its output on.
#include "training/pipeline_runner.hpp"

#include <fmt/format.h>
#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include "core/diagnostics.hpp"
#include "sim/collectives.hpp"
#include "sim/comm.hpp"
#include "sim/engine.hpp"

namespace whatif::training {

namespace sg = simgrid::s4u;

// A stage forgets its delivered sends when it holds this many, or twice as many as were still in flight the
// last time (see sim::drop_done).
constexpr size_t kKeptSends = 16;

BoundaryTags::BoundaryTags(const Schedule& s) : s_(s) {
  // The messages of each ordered device pair, as the sender sends them and as the receiver takes them.
  using Key = std::tuple<int, int, int, int>;  // pipeline, stage it leaves, direction, micro-batch
  std::map<std::pair<int, int>, std::vector<Key>> sent, taken;
  for (int d = 0; d < s.devices; ++d)
    for (const Step& step : s.steps[d]) {
      int dir = step.kind == StepKind::forward ? 1 : -1;
      int in = step.stage - dir, out = step.stage + dir;
      if (in >= 0 && in < s.stages() && s.device_of(step.pipeline, in) != d)
        taken[{s.device_of(step.pipeline, in), d}].emplace_back(step.pipeline, in, dir, step.micro_batch);
      if (out >= 0 && out < s.stages() && s.device_of(step.pipeline, out) != d)
        sent[{d, s.device_of(step.pipeline, out)}].emplace_back(step.pipeline, step.stage, dir,
                                                                step.micro_batch);
    }
  fifo_ = sent == taken;
  long max_tag = static_cast<long>(s.micro_batches) * s.pipelines * s.stages() * 2;
  if (!fifo_ && max_tag >= sim::kCollectiveTagBase)
    throw core::InputError(
        fmt::format("{} micro-batches x {} stages x {} pipelines is more than the runner tags",
                    s.micro_batches, s.stages(), s.pipelines));
}

int BoundaryTags::tag(int pipeline, int from_stage, StepKind kind, int micro_batch) const {
  if (fifo_) return 0;
  long tag = ((static_cast<long>(micro_batch) * s_.pipelines + pipeline) * s_.stages() + from_stage) * 2 +
             (kind == StepKind::forward ? 0 : 1);
  return static_cast<int>(tag);
}

// One destination's messages: sent directly while none of them is undelivered, else queued for a courier
// actor on the sending GPU that posts them one after another with blocking sends.
class StageOutbox::Lane {
 public:
  Lane(sim::Communicator& comm, int from, int to) : comm_(comm), from_(from), to_(to) {}
  void send(std::uint64_t bytes) {
    if (!busy_ && queue_.empty() && direct_.done()) {
      direct_ = comm_.isend(from_, to_, bytes);
      return;
    }
    if (!courier_)
      courier_ =
          sg::Actor::create(fmt::format("courier{}>{}", from_, to_), sg::this_actor::get_host(), [this] {
            for (;;) {
              ready_->acquire();
              if (queue_.empty()) return;  // finish(): everything was sent
              busy_ = true;
              std::uint64_t bytes = queue_.front();
              queue_.pop_front();
              comm_.send(from_, to_, bytes);
              busy_ = false;
            }
          });
    queue_.push_back(bytes);
    ready_->release();
  }
  void finish() {
    direct_.wait();
    if (!courier_) return;
    ready_->release();
    courier_->join();
  }

 private:
  sim::Communicator& comm_;
  int from_, to_;
  sim::Request direct_;
  sg::ActorPtr courier_;
  sg::SemaphorePtr ready_ = sg::Semaphore::create(0);
  std::deque<std::uint64_t> queue_;
  bool busy_ = false;  // the courier is in a send
};

StageOutbox::StageOutbox(sim::Communicator& comm, int rank, bool fifo)
    : comm_(comm), rank_(rank), fifo_(fifo) {}
StageOutbox::~StageOutbox() = default;

void StageOutbox::send(int dst, std::uint64_t bytes, int tag) {
  if (!fifo_) {
    sends_.push_back(comm_.isend(rank_, dst, bytes, tag));
    return;
  }
  auto& lane = lanes_[dst];
  if (!lane) lane = std::make_unique<Lane>(comm_, rank_, dst);
  lane->send(bytes);
}

void StageOutbox::finish() {
  for (auto& [dst, lane] : lanes_)
    lane->finish();
  sim::wait_all(sends_);
}

ExecutionResult run_pipeline(const PipelineRunInput& in, sim::SimEngine& engine) {
  const Schedule& s = *in.schedule;
  if (static_cast<int>(in.device_hosts.size()) != s.devices)
    throw core::InputError(
        fmt::format("pipeline of {} devices given {} hosts", s.devices, in.device_hosts.size()));
  const BoundaryTags tags(s);
  std::vector<sg::Host*> hosts;
  for (const auto& name : in.device_hosts) {
    sg::Host* h = sg::Host::by_name_or_null(name);
    if (h == nullptr) throw core::InputError(fmt::format("pipeline host '{}' is not in the platform", name));
    hosts.push_back(h);
  }
  sim::Communicator comm("pipeline", hosts);
  const auto bytes = static_cast<std::uint64_t>(in.boundary_bytes);

  ExecutionResult result;
  result.timings.resize(s.devices);
  for (int d = 0; d < s.devices; ++d)
    result.timings[d].resize(s.steps[d].size());
  double start = engine.now();

  sim::spawn_ranks(comm, "stage", [&](int d) {
    StageOutbox outbox(comm, d, tags.fifo());
    double speed = hosts[d]->get_speed();
    for (size_t i = 0; i < s.steps[d].size(); ++i) {
      const Step& step = s.steps[d][i];
      bool forward = step.kind == StepKind::forward;
      // Input: the previous stage's activation (forward) or the next stage's gradient (backward).
      int from_stage = forward ? step.stage - 1 : step.stage + 1;
      if (from_stage >= 0 && from_stage < s.stages()) {
        int src = s.device_of(step.pipeline, from_stage);
        if (src != d) comm.recv(d, src, tags.tag(step.pipeline, from_stage, step.kind, step.micro_batch));
      }
      double begin = sg::Engine::get_clock();
      double seconds = forward ? in.cost.forward[step.stage] : in.cost.backward[step.stage];
      if (seconds > 0) sg::this_actor::execute(seconds * speed);
      result.timings[d][i] = {begin - start, sg::Engine::get_clock() - start};
      int to_stage = forward ? step.stage + 1 : step.stage - 1;
      if (to_stage >= 0 && to_stage < s.stages()) {
        int dst = s.device_of(step.pipeline, to_stage);
        if (dst != d)
          outbox.send(dst, bytes, tags.tag(step.pipeline, step.stage, step.kind, step.micro_batch));
      }
    }
    outbox.finish();
  });
  engine.run();

  summarise_timings(s, result);
  return result;
}

void summarise_timings(const Schedule& s, ExecutionResult& result) {
  result.makespan = 0;
  result.busy.assign(s.devices, 0.0);
  for (int d = 0; d < s.devices; ++d)
    for (const auto& t : result.timings[d]) {
      result.makespan = std::max(result.makespan, t.end);
      result.busy[d] += t.end - t.start;
    }
  result.bubble_fraction.resize(s.devices);
  for (int d = 0; d < s.devices; ++d)
    result.bubble_fraction[d] = result.makespan > 0 ? 1.0 - result.busy[d] / result.makespan : 0.0;
  result.peak_in_flight = peak_in_flight(s);
}

long bench_pipeline(ScheduleKind kind, const std::vector<std::string>& hosts, long activities,
                    sim::SimEngine& engine) {
  // Per micro-batch: 2 forwards, 2 backwards (executions) and 2 messages.
  const int micro_batches = static_cast<int>(std::max(1L, activities / 6));
  Schedule s = generate_schedule(kind, 2, micro_batches);
  run_pipeline({&s, hosts, StepCost::uniform(2, 1e-6, 2e-6), 8}, engine);
  return 6L * micro_batches;
}

}  // namespace whatif::training
