// Pipeline schedules (GPipe, 1F1B, interleaved 1F1B, Chimera) as data, and an exact comm-free executor.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace whatif::training {

enum class ScheduleKind { gpipe, one_f_one_b, interleaved_1f1b, chimera };

// How Chimera feeds more micro-batches than one basic unit (N > D) holds.
enum class ChimeraVariant { direct, forward_doubling, backward_halving };

// "gpipe", "1f1b", "interleaved-1f1b", "chimera".
std::string_view to_string(ScheduleKind kind);
// "direct", "forward-doubling", "backward-halving".
std::string_view to_string(ChimeraVariant variant);
// Throw core::InputError naming the accepted spellings (and the closest one) on an unknown name.
ScheduleKind parse_schedule_kind(std::string_view name);
ChimeraVariant parse_chimera_variant(std::string_view name);

enum class StepKind { forward, backward };

// One forward or backward pass of one micro-batch through one stage.
struct Step {
  StepKind kind = StepKind::forward;
  int micro_batch = 0;
  int chunk = 0;     // model chunk on its device (0..v-1); only interleaved-1f1b has more than one
  int pipeline = 0;  // Chimera: 0 = down pipeline, 1 = up pipeline; 0 otherwise
  int stage = 0;     // global stage within its pipeline, 0..stages()-1

  bool operator==(const Step&) const = default;
};

// For each device (pipeline rank), the ordered steps it executes in one iteration.
//
// Stage placement: in pipeline 0 stage s runs on device s % D (chunk s / D), so with interleaving device i
// holds stages {i, i+D, i+2D, ...}; in Chimera's up pipeline (1) stage s runs on device D-1-s.
struct Schedule {
  ScheduleKind kind = ScheduleKind::gpipe;
  ChimeraVariant variant = ChimeraVariant::direct;  // only meaningful for chimera
  int devices = 1;
  int micro_batches = 1;  // micro-batches the steps refer to, numbered 0..micro_batches-1
  int chunks = 1;         // v, virtual stages (model chunks) per device
  int pipelines = 1;      // 2 for Chimera
  // Size of the steps' micro-batches relative to the configured micro-batch: Chimera's backward halving runs
  // every configured micro-batch as two halves (micro-batches 2m and 2m+1 are the halves of m), so 0.5 there.
  // Callers size step costs, activations and messages by it.
  double micro_batch_fraction = 1.0;
  std::vector<std::vector<Step>> steps;

  int stages() const { return devices * chunks; }
  int device_of(int pipeline, int stage) const;
  std::size_t total_steps() const;
};

// Generators, one per schedule; each validates its parameters and throws core::InputError with the reason.
//
// GPipe: all N forwards in micro-batch order, then all N backwards in reverse order (N-1 first), as in
// GPipe's figure 2(c) and as autograd over the concatenated micro-batches runs them.
Schedule gpipe_schedule(int devices, int micro_batches);
// 1F1B (PipeDream-Flush / DAPPLE): min(D-1-i, N) warm-up forwards on device i, then one forward one backward,
// then the remaining backwards.
Schedule one_f_one_b_schedule(int devices, int micro_batches);
// Megatron-LM's interleaved 1F1B (forward_backward_pipelining_with_interleaving): needs N % D == 0.
Schedule interleaved_1f1b_schedule(int devices, int micro_batches, int virtual_stages);
// Chimera with two pipelines (down and up); D even, N a multiple of D; N == D is the basic unit whatever
// the variant. See schedule.cpp for the construction and the choices where the paper leaves room.
Schedule chimera_schedule(int devices, int micro_batches, ChimeraVariant variant);

// Dispatches to the generators. virtual_stages must be 1 except for interleaved-1f1b; variant is used by
// chimera only. micro_batches is the configured count (backward halving doubles it into halves).
Schedule generate_schedule(ScheduleKind kind, int devices, int micro_batches, int virtual_stages = 1,
                           ChimeraVariant variant = ChimeraVariant::direct);

// Duration in seconds of one forward and one backward of one (schedule) micro-batch at each global stage;
// both vectors have Schedule::stages() entries. Chimera's two pipelines share the stage costs: stage s holds
// the same layers in both.
struct StepCost {
  std::vector<double> forward;
  std::vector<double> backward;

  static StepCost uniform(int stages, double forward, double backward);
};

struct StepTiming {
  double start = 0.0;
  double end = 0.0;
};

struct ExecutionResult {
  std::vector<std::vector<StepTiming>> timings;  // parallel to Schedule::steps
  double makespan = 0.0;                         // from time 0 to the end of the last step
  std::vector<double> busy;                      // per device, sum of its step durations
  std::vector<double> bubble_fraction;           // per device, 1 - busy / makespan
  // Per device, the most forwards whose backward has not run yet, counted in (stage, schedule micro-batch)
  // activations: for interleaving one unit is one chunk (1/v of the device's layers), for Chimera one stage.
  std::vector<int> peak_in_flight;

  double mean_bubble_fraction() const;
  double max_bubble_fraction() const;
};

// The peak in-flight activations of each device; it depends on the order only, not on durations.
std::vector<int> peak_in_flight(const Schedule& schedule);

// Runs the schedule with free communication: forward (m, s) waits for forward (m, s-1) of its pipeline,
// backward (m, s) for backward (m, s+1) and for forward (m, s), and every device runs its steps in order,
// one at a time, each as early as that allows. O(total steps). Throws core::InputError on costs that do not
// match the schedule, and std::logic_error naming the device and step when the schedule deadlocks or is
// malformed (a generator bug, not user input).
ExecutionResult execute_schedule(const Schedule& schedule, const StepCost& cost);

// "F3", "B0.1" (micro-batch 0, chunk 1; interleaving only), "F2u" / "B0d" (Chimera up / down pipeline).
std::string step_label(const Schedule& schedule, const Step& step);

// One line per device in execution order, like the papers' figures: "dev0: F0 F1 B0 F2 B1 B2\n".
std::string render_schedule(const Schedule& schedule);

// Time-aligned ASCII grid: each step is a box "[F0]" as wide as its duration, idle time is '.'. One cell
// (label width + 2 characters) per time unit when every start and end is an integer, otherwise per the
// shortest step's duration (times rounded to it); the last line states the scale and the makespan.
std::string render_timeline(const Schedule& schedule, const ExecutionResult& result);

}  // namespace whatif::training
