// Schedule and paper-configuration analyses for `whatif training schedule` and `whatif validate training`.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "training/schedule.hpp"

namespace whatif::training {

// The closed-form bubble fraction of a schedule with equal stages and free communication, when the literature
// gives one: (D-1)/(N+D-1) for GPipe and 1F1B, (D-1)/(v*N+D-1) interleaved, (D-2)/(2N+D-2) for Chimera
// (which holds only when a backward costs what a forward does). nullopt otherwise.
std::optional<double> formula_bubble(ScheduleKind kind, int devices, int micro_batches, int chunks,
                                     double backward_ratio);

struct ScheduleRequest {
  ScheduleKind kind = ScheduleKind::one_f_one_b;
  int devices = 4, micro_batches = 8, chunks = 1;
  ChimeraVariant variant = ChimeraVariant::direct;
  double backward_ratio = 2.0;  // backward time / forward time of a stage
};

// Per-device step order, the executed timeline's bubbles next to the formula, and peak activations in flight.
nlohmann::json analyse_schedule(const ScheduleRequest& request);
std::string render_schedule_analysis(const nlohmann::json& analysis, bool with_timeline);

// For every shipped paper configuration: parameter count and FLOPs by Megatron's formulas next to the paper's
// figure, and the bubble the executor measures next to the schedule's formula, each with its error.
nlohmann::json validate_training();
std::string render_training_validation(const nlohmann::json& validation);

}  // namespace whatif::training
