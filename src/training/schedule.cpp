// Pipeline schedule generators, the exact comm-free executor that measures their bubbles, and printers.
#include "training/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "core/diagnostics.hpp"

namespace whatif::training {

namespace {

// Beyond this a schedule would need gigabytes; no realistic pipeline comes close (64 x 2048 is 262 144).
constexpr std::int64_t max_schedule_steps = 100'000'000;

constexpr std::string_view kind_names[] = {"gpipe", "1f1b", "interleaved-1f1b", "chimera"};
constexpr std::string_view variant_names[] = {"direct", "forward-doubling", "backward-halving"};

std::vector<std::string> names_of(const auto& names) {
  return {std::begin(names), std::end(names)};
}

Step forward(int micro_batch, int stage, int chunk = 0, int pipeline = 0) {
  return Step{StepKind::forward, micro_batch, chunk, pipeline, stage};
}

Step backward(int micro_batch, int stage, int chunk = 0, int pipeline = 0) {
  return Step{StepKind::backward, micro_batch, chunk, pipeline, stage};
}

void check_size(int devices, std::int64_t micro_batches, int chunks) {
  std::int64_t steps = std::int64_t{devices} * micro_batches * chunks * 2;
  if (steps > max_schedule_steps)
    throw core::InputError(fmt::format(
        "a pipeline of {} devices with {} micro-batches would have {} steps; at most {} are supported",
        devices, micro_batches, steps, max_schedule_steps));
}

void validate(ScheduleKind kind, int devices, int micro_batches, int virtual_stages, ChimeraVariant variant) {
  std::string_view name = to_string(kind);
  if (devices < 1)
    throw core::InputError(fmt::format("the pipeline depth must be at least 1 (got {})", devices));
  if (micro_batches < 1)
    throw core::InputError(fmt::format("the micro-batch count must be at least 1 (got {})", micro_batches));
  if (kind == ScheduleKind::interleaved_1f1b) {
    if (virtual_stages < 1)
      throw core::InputError(
          fmt::format("{} needs at least 1 virtual stage per device (got {})", name, virtual_stages));
    if (micro_batches % devices != 0)
      throw core::InputError(
          fmt::format("{} needs the micro-batch count ({}) to be a multiple of the pipeline depth ({})", name,
                      micro_batches, devices));
  } else if (virtual_stages != 1) {
    throw core::InputError(fmt::format(
        "virtual stages per device ({}) apply only to interleaved-1f1b; {} needs 1", virtual_stages, name));
  }
  if (kind == ScheduleKind::chimera) {
    if (devices % 2 != 0)
      throw core::InputError(fmt::format(
          "chimera needs an even pipeline depth (got {}): each device holds a stage of both of its pipelines",
          devices));
    if (micro_batches % devices != 0)
      throw core::InputError(
          fmt::format("chimera needs the micro-batch count ({}) to be a multiple of the pipeline depth ({})",
                      micro_batches, devices));
    if (variant == ChimeraVariant::forward_doubling && micro_batches != devices &&
        micro_batches % (2 * devices) != 0)
      throw core::InputError(fmt::format(
          "chimera forward-doubling needs the micro-batch count ({}) to equal the pipeline depth ({}) "
          "or to be a multiple of twice it ({})",
          micro_batches, devices, 2 * devices));
  }
  check_size(devices, micro_batches, virtual_stages);
}

Schedule empty_schedule(ScheduleKind kind, int devices, int micro_batches, int chunks, int pipelines) {
  Schedule s;
  s.kind = kind;
  s.devices = devices;
  s.micro_batches = micro_batches;
  s.chunks = chunks;
  s.pipelines = pipelines;
  s.steps.resize(static_cast<std::size_t>(devices));
  return s;
}

std::string describe(const Schedule& schedule, const Step& step) {
  std::string where = schedule.pipelines == 2 ? fmt::format("stage {} of the {} pipeline", step.stage,
                                                            step.pipeline == 0 ? "down" : "up")
                                              : fmt::format("stage {}", step.stage);
  return fmt::format("{} ({})", step_label(schedule, step), where);
}

}  // namespace

std::string_view to_string(ScheduleKind kind) {
  return kind_names[static_cast<int>(kind)];
}

std::string_view to_string(ChimeraVariant variant) {
  return variant_names[static_cast<int>(variant)];
}

ScheduleKind parse_schedule_kind(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kind_names); ++i)
    if (name == kind_names[i]) return static_cast<ScheduleKind>(i);
  throw core::InputError(
      fmt::format("unknown pipeline schedule '{}' (expected gpipe, 1f1b, interleaved-1f1b or chimera){}",
                  name, core::did_you_mean(name, names_of(kind_names))));
}

ChimeraVariant parse_chimera_variant(std::string_view name) {
  for (std::size_t i = 0; i < std::size(variant_names); ++i)
    if (name == variant_names[i]) return static_cast<ChimeraVariant>(i);
  throw core::InputError(
      fmt::format("unknown chimera variant '{}' (expected direct, forward-doubling or backward-halving){}",
                  name, core::did_you_mean(name, names_of(variant_names))));
}

int Schedule::device_of(int pipeline, int stage) const {
  return pipeline == 0 ? stage % devices : devices - 1 - stage;
}

std::size_t Schedule::total_steps() const {
  std::size_t n = 0;
  for (const auto& device : steps)
    n += device.size();
  return n;
}

Schedule gpipe_schedule(int devices, int micro_batches) {
  validate(ScheduleKind::gpipe, devices, micro_batches, 1, ChimeraVariant::direct);
  Schedule s = empty_schedule(ScheduleKind::gpipe, devices, micro_batches, 1, 1);
  for (int i = 0; i < devices; ++i) {
    auto& out = s.steps[static_cast<std::size_t>(i)];
    out.reserve(2 * static_cast<std::size_t>(micro_batches));
    for (int m = 0; m < micro_batches; ++m)
      out.push_back(forward(m, i));
    for (int m = micro_batches - 1; m >= 0; --m)
      out.push_back(backward(m, i));
  }
  return s;
}

Schedule one_f_one_b_schedule(int devices, int micro_batches) {
  validate(ScheduleKind::one_f_one_b, devices, micro_batches, 1, ChimeraVariant::direct);
  Schedule s = empty_schedule(ScheduleKind::one_f_one_b, devices, micro_batches, 1, 1);
  for (int i = 0; i < devices; ++i) {
    auto& out = s.steps[static_cast<std::size_t>(i)];
    out.reserve(2 * static_cast<std::size_t>(micro_batches));
    // Device i must let D-1-i micro-batches pass before the first backward can come back to it.
    int warmup = std::min(devices - 1 - i, micro_batches);
    for (int m = 0; m < warmup; ++m)
      out.push_back(forward(m, i));
    for (int m = warmup; m < micro_batches; ++m) {
      out.push_back(forward(m, i));
      out.push_back(backward(m - warmup, i));
    }
    for (int m = micro_batches - warmup; m < micro_batches; ++m)
      out.push_back(backward(m, i));
  }
  return s;
}

Schedule interleaved_1f1b_schedule(int devices, int micro_batches, int virtual_stages) {
  validate(ScheduleKind::interleaved_1f1b, devices, micro_batches, virtual_stages, ChimeraVariant::direct);
  const int p = devices;
  const int v = virtual_stages;
  Schedule s = empty_schedule(ScheduleKind::interleaved_1f1b, p, micro_batches, v, 1);
  // Megatron counts "virtual micro-batches" k = 0..N*v-1 per device. They come in groups of p*v: within a
  // group the first p go to chunk 0, the next p to chunk 1, ... (get_model_chunk_id); backwards visit the
  // chunks in reverse. The micro-batch of the k-th step on a chunk is (k / (p*v)) * p + k % p, because each
  // chunk consumes its micro-batches in order, p per group.
  const int total = micro_batches * v;
  auto micro_batch_of = [&](int k) { return (k / (p * v)) * p + k % p; };
  auto chunk_of = [&](int k, bool is_forward) {
    int chunk = (k % (p * v)) / p;
    return is_forward ? chunk : v - 1 - chunk;
  };
  for (int i = 0; i < p; ++i) {
    auto& out = s.steps[static_cast<std::size_t>(i)];
    out.reserve(2 * static_cast<std::size_t>(total));
    // Megatron's warm-up: with N == p every step is warm-up (all forwards, then all backwards); otherwise
    // (p-i-1)*2 + (v-1)*p forwards, capped at the total.
    int warmup = micro_batches == p ? total : std::min((p - i - 1) * 2 + (v - 1) * p, total);
    auto push_forward = [&](int k) {
      int chunk = chunk_of(k, true);
      out.push_back(forward(micro_batch_of(k), chunk * p + i, chunk));
    };
    auto push_backward = [&](int k) {
      int chunk = chunk_of(k, false);
      out.push_back(backward(micro_batch_of(k), chunk * p + i, chunk));
    };
    for (int k = 0; k < warmup; ++k)
      push_forward(k);
    for (int k = 0; k < total - warmup; ++k) {
      push_forward(k + warmup);
      push_backward(k);
    }
    for (int k = total - warmup; k < total; ++k)
      push_backward(k);
  }
  return s;
}

// Chimera (Li & Hoefler, SC21), built the way the paper draws it: on a grid of equal time cells, each of the
// two pipelines runs its micro-batches 1F1B-style, and the per-device order is read off the merged grid.
//
// Basic unit (N == D): the down pipeline gets micro-batches 0..D/2-1, the up pipeline D/2..D-1. Pipeline
// item k enters its stage 0 at cell 2k (two cells apart, leaving every other cell to the other direction),
// its forward at stage s is in cell 2k + s, and its backward at stage s in cell 2D-1-s + 2k. A device's down
// steps and up steps have opposite cell parities in each phase because D is even, so the merge never
// collides, and with backward = forward every device is idle D-2 cells: bubble (D-2)/(2N+D-2).
//
// N > D:
// - direct: N/D basic units, unit u shifted by 2D cells, the period at which a unit's first forwards fill
//   the previous unit's trailing idle cells (seamless when backward = forward).
// - forward-doubling: units of 2D micro-batches (D per pipeline). Each forward cell holds the forwards of
//   two consecutive micro-batches of its pipeline, run back to back, and each backward cell one backward,
//   so with backward = 2 x forward every cell lasts the same. Per pipeline and stage a unit has D/2
//   forward cells and D backward cells (backward of item j in cell 2D-1-s + 2j); units are 3D cells apart.
//   Twice as many micro-batches are in flight as with direct concatenation (the paper's reason to pair it
//   with recomputation). Needs N % 2D == 0.
// - backward-halving: the paper's alternative that keeps activation memory: the same grid as forward
//   doubling, but over half micro-batches, so a doubled forward is one configured micro-batch's forward and
//   each backward cell half of its backward. The schedule holds 2N half micro-batches (2m and 2m+1 are the
//   halves of m, micro_batch_fraction = 0.5); needs N % D == 0.
// The paper shows these as figures only; the cell formulas above are this project's reading of them.
// Measured by the executor (schedule_test.cpp): with backward = 2 x forward the basic unit idles
// 2(D-2)/(5D-4) rather than (D-2)/(2N+D-2) and direct concatenation keeps intermediate bubbles, while
// forward doubling reaches (D-2)/(2N+D-2) exactly.
Schedule chimera_schedule(int devices, int micro_batches, ChimeraVariant variant) {
  validate(ScheduleKind::chimera, devices, micro_batches, 1, variant);
  const int d = devices;
  bool basic = micro_batches == d || variant == ChimeraVariant::direct;
  bool halves = !basic && variant == ChimeraVariant::backward_halving;
  int steps_micro_batches = halves ? 2 * micro_batches : micro_batches;
  if (halves) check_size(devices, steps_micro_batches, 1);
  Schedule s = empty_schedule(ScheduleKind::chimera, d, steps_micro_batches, 1, 2);
  s.variant = variant;
  s.micro_batch_fraction = halves ? 0.5 : 1.0;

  const int per_pipeline = basic ? d / 2 : d;  // micro-batches per pipeline and unit
  const int doubling = basic ? 1 : 2;          // forwards per forward cell
  const std::int64_t period = basic ? 2 * d : 3 * d;
  const int units = steps_micro_batches / (2 * per_pipeline);

  struct Placed {
    std::int64_t cell;
    int sub;    // position inside a doubled forward cell
    int group;  // the cell's owner, to tell a collision from the two halves of one doubled cell
    Step step;
  };
  std::vector<std::vector<Placed>> grid(static_cast<std::size_t>(d));
  for (auto& g : grid)
    g.reserve(2 * static_cast<std::size_t>(steps_micro_batches));
  int group = 0;
  for (int u = 0; u < units; ++u) {
    std::int64_t offset = u * period;
    for (int pipeline = 0; pipeline < 2; ++pipeline) {
      int base = (2 * u + pipeline) * per_pipeline;
      for (int stage = 0; stage < d; ++stage) {
        auto& g = grid[static_cast<std::size_t>(s.device_of(pipeline, stage))];
        for (int k = 0; k < per_pipeline / doubling; ++k, ++group)
          for (int j = 0; j < doubling; ++j)
            g.push_back(
                {offset + 2 * k + stage, j, group, forward(base + k * doubling + j, stage, 0, pipeline)});
        for (int k = 0; k < per_pipeline; ++k, ++group)
          g.push_back({offset + 2 * d - 1 - stage + 2 * k, 0, group, backward(base + k, stage, 0, pipeline)});
      }
    }
  }
  for (int i = 0; i < d; ++i) {
    auto& g = grid[static_cast<std::size_t>(i)];
    std::sort(g.begin(), g.end(), [](const Placed& a, const Placed& b) {
      return a.cell != b.cell ? a.cell < b.cell : a.sub < b.sub;
    });
    auto& out = s.steps[static_cast<std::size_t>(i)];
    out.reserve(g.size());
    for (std::size_t k = 0; k < g.size(); ++k) {
      if (k > 0 && g[k].cell == g[k - 1].cell && g[k].group != g[k - 1].group)
        throw std::logic_error(fmt::format("chimera grid collision on device {} in cell {}: {} and {}", i,
                                           g[k].cell, describe(s, g[k - 1].step), describe(s, g[k].step)));
      out.push_back(g[k].step);
    }
  }
  return s;
}

Schedule generate_schedule(ScheduleKind kind, int devices, int micro_batches, int virtual_stages,
                           ChimeraVariant variant) {
  validate(kind, devices, micro_batches, virtual_stages, variant);
  switch (kind) {
    case ScheduleKind::gpipe:
      return gpipe_schedule(devices, micro_batches);
    case ScheduleKind::one_f_one_b:
      return one_f_one_b_schedule(devices, micro_batches);
    case ScheduleKind::interleaved_1f1b:
      return interleaved_1f1b_schedule(devices, micro_batches, virtual_stages);
    case ScheduleKind::chimera:
      return chimera_schedule(devices, micro_batches, variant);
  }
  throw std::logic_error("unknown schedule kind");
}

StepCost StepCost::uniform(int stages, double forward, double backward) {
  StepCost c;
  c.forward.assign(static_cast<std::size_t>(std::max(stages, 0)), forward);
  c.backward.assign(static_cast<std::size_t>(std::max(stages, 0)), backward);
  return c;
}

double ExecutionResult::mean_bubble_fraction() const {
  if (bubble_fraction.empty()) return 0.0;
  double sum = 0.0;
  for (double b : bubble_fraction)
    sum += b;
  return sum / static_cast<double>(bubble_fraction.size());
}

double ExecutionResult::max_bubble_fraction() const {
  return bubble_fraction.empty() ? 0.0 : *std::max_element(bubble_fraction.begin(), bubble_fraction.end());
}

std::vector<int> peak_in_flight(const Schedule& schedule) {
  std::vector<int> peaks;
  peaks.reserve(schedule.steps.size());
  for (const auto& device : schedule.steps) {
    int live = 0;
    int peak = 0;
    for (const Step& step : device) {
      live += step.kind == StepKind::forward ? 1 : -1;
      peak = std::max(peak, live);
    }
    peaks.push_back(peak);
  }
  return peaks;
}

ExecutionResult execute_schedule(const Schedule& schedule, const StepCost& cost) {
  const int devices = schedule.devices;
  const int stages = schedule.stages();
  const int micro_batches = schedule.micro_batches;
  const int pipelines = schedule.pipelines;
  // Two pipelines place stages by mirroring, which is defined for one chunk per device only.
  if (devices < 1 || stages < 1 || micro_batches < 1 || pipelines < 1 || pipelines > 2 ||
      (pipelines == 2 && schedule.chunks != 1) || schedule.steps.size() != static_cast<std::size_t>(devices))
    throw std::logic_error(
        fmt::format("malformed schedule: {} devices, {} stages, {} micro-batches, {} device lists", devices,
                    stages, micro_batches, schedule.steps.size()));
  if (cost.forward.size() != static_cast<std::size_t>(stages) ||
      cost.backward.size() != static_cast<std::size_t>(stages))
    throw core::InputError(
        fmt::format("step costs give {} forward and {} backward durations for a schedule of {} stages",
                    cost.forward.size(), cost.backward.size(), stages));
  for (int s = 0; s < stages; ++s) {
    for (auto [what, value] : {std::pair{"forward", cost.forward[static_cast<std::size_t>(s)]},
                               std::pair{"backward", cost.backward[static_cast<std::size_t>(s)]}})
      if (!std::isfinite(value) || value < 0)
        throw core::InputError(
            fmt::format("stage {} {} duration must be finite and non-negative (got {})", s, what, value));
  }

  // Every (pipeline, stage, micro-batch, kind) gets one slot; lookups stay O(1), so the run is O(steps).
  const auto stage_count = static_cast<std::size_t>(stages);
  const auto micro_batch_count = static_cast<std::size_t>(micro_batches);
  auto key = [&](int pipeline, int stage, int micro_batch, StepKind kind) {
    std::size_t slot = (static_cast<std::size_t>(pipeline) * stage_count + static_cast<std::size_t>(stage)) *
                           micro_batch_count +
                       static_cast<std::size_t>(micro_batch);
    return 2 * slot + (kind == StepKind::backward ? 1 : 0);
  };
  const std::size_t keys = key(pipelines - 1, stages - 1, micro_batches - 1, StepKind::backward) + 1;
  std::vector<double> end_time(keys, 0.0);
  std::vector<char> done(keys, 0);
  std::vector<char> seen(keys, 0);

  ExecutionResult result;
  result.timings.resize(static_cast<std::size_t>(devices));
  result.busy.assign(static_cast<std::size_t>(devices), 0.0);
  for (int d = 0; d < devices; ++d) {
    const auto& list = schedule.steps[static_cast<std::size_t>(d)];
    result.timings[static_cast<std::size_t>(d)].resize(list.size());
    for (const Step& step : list) {
      bool in_range = step.micro_batch >= 0 && step.micro_batch < micro_batches && step.pipeline >= 0 &&
                      step.pipeline < pipelines && step.stage >= 0 && step.stage < stages &&
                      (step.kind == StepKind::forward || step.kind == StepKind::backward);
      if (!in_range)
        throw std::logic_error(
            fmt::format("schedule step on device {} is out of range: micro-batch {}, stage {}, pipeline {}",
                        d, step.micro_batch, step.stage, step.pipeline));
      int owner = schedule.device_of(step.pipeline, step.stage);
      int chunk = step.pipeline == 0 ? step.stage / devices : 0;
      if (owner != d)
        throw std::logic_error(fmt::format("schedule puts {} on device {}, but that stage is on device {}",
                                           describe(schedule, step), d, owner));
      if (step.chunk != chunk)
        throw std::logic_error(
            fmt::format("schedule gives {} chunk {}, but that stage is chunk {} of device {}",
                        describe(schedule, step), step.chunk, chunk, d));
      char& flag = seen[key(step.pipeline, step.stage, step.micro_batch, step.kind)];
      if (flag) throw std::logic_error(fmt::format("schedule runs {} twice", describe(schedule, step)));
      flag = 1;
    }
  }

  std::vector<std::size_t> next(static_cast<std::size_t>(devices), 0);
  std::vector<double> free_at(static_cast<std::size_t>(devices), 0.0);
  std::vector<int> work;
  std::vector<char> queued(static_cast<std::size_t>(devices), 1);
  work.reserve(static_cast<std::size_t>(devices));
  for (int d = devices - 1; d >= 0; --d)
    work.push_back(d);
  auto wake = [&](int d) {
    if (!queued[static_cast<std::size_t>(d)]) {
      queued[static_cast<std::size_t>(d)] = 1;
      work.push_back(d);
    }
  };

  // A step's start depends only on its device's previous step and its dependencies, so steps can be settled
  // in any order that respects both: run each device as far as it can, and revisit it when a step it may be
  // waiting for completes.
  while (!work.empty()) {
    int d = work.back();
    work.pop_back();
    queued[static_cast<std::size_t>(d)] = 0;
    const auto& list = schedule.steps[static_cast<std::size_t>(d)];
    std::size_t& i = next[static_cast<std::size_t>(d)];
    double& free = free_at[static_cast<std::size_t>(d)];
    while (i < list.size()) {
      const Step& st = list[i];
      double start = free;
      if (st.kind == StepKind::forward) {
        if (st.stage > 0) {
          std::size_t dep = key(st.pipeline, st.stage - 1, st.micro_batch, StepKind::forward);
          if (!done[dep]) break;
          start = std::max(start, end_time[dep]);
        }
      } else {
        std::size_t own = key(st.pipeline, st.stage, st.micro_batch, StepKind::forward);
        if (!done[own]) break;
        start = std::max(start, end_time[own]);
        if (st.stage < stages - 1) {
          std::size_t dep = key(st.pipeline, st.stage + 1, st.micro_batch, StepKind::backward);
          if (!done[dep]) break;
          start = std::max(start, end_time[dep]);
        }
      }
      double duration = st.kind == StepKind::forward ? cost.forward[static_cast<std::size_t>(st.stage)]
                                                     : cost.backward[static_cast<std::size_t>(st.stage)];
      double end = start + duration;
      std::size_t self = key(st.pipeline, st.stage, st.micro_batch, st.kind);
      end_time[self] = end;
      done[self] = 1;
      result.timings[static_cast<std::size_t>(d)][i] = {start, end};
      result.busy[static_cast<std::size_t>(d)] += duration;
      free = end;
      ++i;
      if (st.kind == StepKind::forward && st.stage + 1 < stages)
        wake(schedule.device_of(st.pipeline, st.stage + 1));
      if (st.kind == StepKind::backward && st.stage > 0) wake(schedule.device_of(st.pipeline, st.stage - 1));
    }
  }

  // A stuck device waits for a step of another device; follow those waits to the one missing step or around
  // the cycle, so the message names where the order is wrong rather than an innocent bystander.
  int stuck = -1;
  for (int d = 0; d < devices && stuck < 0; ++d)
    if (next[static_cast<std::size_t>(d)] < schedule.steps[static_cast<std::size_t>(d)].size()) stuck = d;
  std::vector<char> visited(static_cast<std::size_t>(devices), 0);
  while (stuck >= 0) {
    int d = stuck;
    visited[static_cast<std::size_t>(d)] = 1;
    std::size_t i = next[static_cast<std::size_t>(d)];
    const Step& st = schedule.steps[static_cast<std::size_t>(d)][i];
    Step need = st;
    if (st.kind == StepKind::forward) {
      need.stage = st.stage - 1;
    } else if (!done[key(st.pipeline, st.stage, st.micro_batch, StepKind::forward)]) {
      need.kind = StepKind::forward;
    } else {
      need.stage = st.stage + 1;
    }
    need.chunk = need.pipeline == 0 ? need.stage / devices : 0;
    int owner = schedule.device_of(need.pipeline, need.stage);
    std::string why;
    if (!seen[key(need.pipeline, need.stage, need.micro_batch, need.kind)]) {
      why = "which no device runs";
    } else if (owner == d) {
      why = "which comes later in its own order";
    } else {
      const Step& waiting =
          schedule.steps[static_cast<std::size_t>(owner)][next[static_cast<std::size_t>(owner)]];
      if (!visited[static_cast<std::size_t>(owner)]) {
        stuck = owner;
        continue;
      }
      why = fmt::format("which device {} never reaches (it waits at {})", owner, describe(schedule, waiting));
    }
    throw std::logic_error(
        fmt::format("schedule deadlock: device {} cannot run its step {}, {}: it needs {}, {}", d, i,
                    describe(schedule, st), describe(schedule, need), why));
  }

  result.makespan = 0.0;
  for (double f : free_at)
    result.makespan = std::max(result.makespan, f);
  result.bubble_fraction.reserve(static_cast<std::size_t>(devices));
  for (double busy : result.busy)
    result.bubble_fraction.push_back(result.makespan > 0 ? 1.0 - busy / result.makespan : 0.0);
  result.peak_in_flight = peak_in_flight(schedule);
  return result;
}

std::string step_label(const Schedule& schedule, const Step& step) {
  std::string label = fmt::format("{}{}", step.kind == StepKind::forward ? 'F' : 'B', step.micro_batch);
  if (schedule.chunks > 1) label += fmt::format(".{}", step.chunk);
  if (schedule.pipelines == 2) label += step.pipeline == 0 ? 'd' : 'u';
  return label;
}

namespace {

std::vector<std::string> device_names(const Schedule& schedule, std::string_view suffix) {
  std::vector<std::string> names;
  std::size_t width = 0;
  for (int d = 0; d < schedule.devices; ++d) {
    names.push_back(fmt::format("dev{}{}", d, suffix));
    width = std::max(width, names.back().size());
  }
  for (auto& n : names)
    n.resize(width, ' ');
  return names;
}

}  // namespace

std::string render_schedule(const Schedule& schedule) {
  std::string out;
  auto names = device_names(schedule, ":");
  for (std::size_t d = 0; d < schedule.steps.size() && d < names.size(); ++d) {
    out += names[d];
    for (const Step& step : schedule.steps[d]) {
      out += ' ';
      out += step_label(schedule, step);
    }
    out += '\n';
  }
  return out;
}

std::string render_timeline(const Schedule& schedule, const ExecutionResult& result) {
  if (result.timings.size() != schedule.steps.size())
    throw core::InputError("the execution result does not belong to this schedule (device counts differ)");
  std::size_t label_width = 0;
  bool integral = true;
  double quantum = std::numeric_limits<double>::infinity();
  for (std::size_t d = 0; d < schedule.steps.size(); ++d) {
    if (result.timings[d].size() != schedule.steps[d].size())
      throw core::InputError(fmt::format(
          "the execution result does not belong to this schedule (device {} step counts differ)", d));
    for (std::size_t i = 0; i < schedule.steps[d].size(); ++i) {
      label_width = std::max(label_width, step_label(schedule, schedule.steps[d][i]).size());
      const StepTiming& t = result.timings[d][i];
      for (double x : {t.start, t.end})
        if (std::abs(x - std::round(x)) > 1e-9 * std::max(1.0, std::abs(x))) integral = false;
      if (t.end - t.start > 0) quantum = std::min(quantum, t.end - t.start);
    }
  }
  if (integral || !std::isfinite(quantum)) quantum = 1.0;
  const std::size_t cell = label_width + 2;
  auto column = [&](double t) { return static_cast<std::int64_t>(std::llround(t / quantum)); };

  std::string out;
  auto names = device_names(schedule, "");
  for (std::size_t d = 0; d < schedule.steps.size(); ++d) {
    out += names[d];
    out += ' ';
    std::int64_t cursor = 0;
    for (std::size_t i = 0; i < schedule.steps[d].size(); ++i) {
      const StepTiming& t = result.timings[d][i];
      // Rounding may make neighbours touch or a short step vanish; keep every step visible and in order.
      std::int64_t a = std::max(column(t.start), cursor);
      std::int64_t b = std::max(column(t.end), a + 1);
      out.append(static_cast<std::size_t>(a - cursor) * cell, '.');
      std::size_t width = static_cast<std::size_t>(b - a) * cell;
      std::string label = step_label(schedule, schedule.steps[d][i]);
      out += '[';
      out += label;
      out.append(width - label.size() - 2, ' ');
      out += ']';
      cursor = b;
    }
    std::int64_t last = column(result.makespan);
    if (last > cursor) out.append(static_cast<std::size_t>(last - cursor) * cell, '.');
    out += '\n';
  }
  out += fmt::format("scale: one cell is {:g} time unit{}, makespan {:g}\n", quantum,
                     quantum == 1.0 ? "" : "s", result.makespan);
  return out;
}

}  // namespace whatif::training
