// Analyses built from the schedule executor and the model formulas, reported as JSON and aligned text.
#include "training/analysis.hpp"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/table.hpp"
#include "training/model.hpp"

namespace whatif::training {

using nlohmann::json;

std::optional<double> formula_bubble(ScheduleKind kind, int devices, int micro_batches, int chunks,
                                     double backward_ratio) {
  double d = devices, n = micro_batches, v = chunks;
  switch (kind) {
    case ScheduleKind::gpipe:
    case ScheduleKind::one_f_one_b:
      return (d - 1) / (n + d - 1);
    case ScheduleKind::interleaved_1f1b:
      return (d - 1) / (v * n + d - 1);
    case ScheduleKind::chimera:
      if (backward_ratio != 1.0) return std::nullopt;
      return (d - 2) / (2 * n + d - 2);
  }
  return std::nullopt;
}

namespace {

struct Measured {
  Schedule schedule;
  ExecutionResult result;
};

// Equal stages, free communication: a chunk's forward costs 1/chunks of a device's, its backward `ratio`
// times that. Backward halving runs half micro-batches, whose steps cost half as much.
Measured run(const ScheduleRequest& r) {
  Measured m{generate_schedule(r.kind, r.devices, r.micro_batches, r.chunks, r.variant), {}};
  double f = m.schedule.micro_batch_fraction / m.schedule.chunks;
  m.result = execute_schedule(m.schedule, StepCost::uniform(m.schedule.stages(), f, f * r.backward_ratio));
  return m;
}

double relative_error(double predicted, double reference) {
  return reference != 0 ? (predicted - reference) / reference : 0.0;
}

}  // namespace

json analyse_schedule(const ScheduleRequest& request) {
  Measured m = run(request);
  json j{{"schedule", std::string(to_string(request.kind))},
         {"devices", request.devices},
         {"micro_batches", request.micro_batches},
         {"chunks", request.chunks},
         {"backward_ratio", request.backward_ratio},
         {"makespan", m.result.makespan},
         {"mean_bubble_fraction", m.result.mean_bubble_fraction()}};
  if (request.kind == ScheduleKind::chimera) j["variant"] = std::string(to_string(request.variant));
  auto formula = formula_bubble(request.kind, request.devices, request.micro_batches, request.chunks,
                                request.backward_ratio);
  j["formula_bubble_fraction"] = formula ? json(*formula) : json(nullptr);
  json devices = json::array();
  for (int d = 0; d < m.schedule.devices; ++d) {
    json steps = json::array();
    for (const Step& s : m.schedule.steps[d])
      steps.push_back(step_label(m.schedule, s));
    devices.push_back({{"device", d},
                       {"steps", steps},
                       {"bubble_fraction", m.result.bubble_fraction[d]},
                       {"peak_in_flight", m.result.peak_in_flight[d]}});
  }
  j["per_device"] = devices;
  j["order"] = render_schedule(m.schedule);
  j["timeline"] = render_timeline(m.schedule, m.result);
  return j;
}

std::string render_schedule_analysis(const json& a, bool with_timeline) {
  std::string out = fmt::format(
      "{} schedule, {} devices, {} micro-batches{}{}, backward = {:g} x forward\n",
      a["schedule"].get<std::string>(), a["devices"].get<int>(), a["micro_batches"].get<int>(),
      a["chunks"].get<int>() > 1 ? fmt::format(", {} chunks per device", a["chunks"].get<int>()) : "",
      a.contains("variant") ? fmt::format(", {} variant", a["variant"].get<std::string>()) : "",
      a["backward_ratio"].get<double>());
  out += a["order"].get<std::string>();
  if (with_timeline) out += "\n" + a["timeline"].get<std::string>();
  report::Table t;
  t.headers = {"device", "bubble", "peak in flight"};
  t.right_align = {false, true, true};
  for (const auto& d : a["per_device"])
    t.rows.push_back({fmt::format("dev{}", d["device"].get<int>()),
                      fmt::format("{:.4f}", d["bubble_fraction"].get<double>()),
                      std::to_string(d["peak_in_flight"].get<int>())});
  out += "\n" + t.render();
  out += fmt::format("mean bubble {:.4f}", a["mean_bubble_fraction"].get<double>());
  if (a["formula_bubble_fraction"].is_null())
    out += " (no closed form for this schedule and cost ratio)\n";
  else
    out += fmt::format(", formula {:.4f}\n", a["formula_bubble_fraction"].get<double>());
  return out;
}

json validate_training() {
  json rows = json::array();
  for (const auto& name : preset_names()) {
    const ModelPreset& preset = model_preset(name);
    const TransformerConfig& cfg = preset.model;
    double params = parameter_count(cfg);
    for (const PaperLayout& layout : preset.layouts) {
      json row{{"model", name},
               {"scheme", layout.scheme},
               {"gpus", layout.gpus},
               {"tensor", layout.tensor},
               {"pipeline", layout.pipeline},
               {"note", layout.note},
               {"parameters", params},
               {"paper_parameters", preset.paper_parameters},
               {"parameters_error", relative_error(params, preset.paper_parameters)}};
      int d = layout.data();
      bool batch_known = layout.global_batch > 0 && layout.micro_batch > 0 && d > 0;
      if (batch_known)
        row["flops_per_iteration"] = megatron_flops(cfg, layout.global_batch, layout.recompute);
      // Bubbles of the schedules the executor knows: Megatron's rows have m = B / (b d) micro-batches,
      // Chimera's paper gives no global batch, so its basic unit N = D is measured as in its own table.
      std::optional<ScheduleRequest> request;
      if (layout.scheme == "1f1b" || layout.scheme == "interleaved-1f1b") {
        if (batch_known) {
          ScheduleRequest r;
          r.kind = layout.scheme == "1f1b" ? ScheduleKind::one_f_one_b : ScheduleKind::interleaved_1f1b;
          r.devices = layout.pipeline;
          r.micro_batches = layout.global_batch / (layout.micro_batch * d);
          r.chunks = layout.virtual_stages(cfg.layers);
          r.backward_ratio = layout.recompute == Recompute::full ? 3.0 : 2.0;
          request = r;
        }
      } else if (layout.scheme == "chimera") {
        ScheduleRequest r;
        r.kind = ScheduleKind::chimera;
        r.devices = r.micro_batches = layout.pipeline;
        r.backward_ratio = 1.0;
        request = r;
      }
      if (request) {
        Measured m = run(*request);
        auto formula = formula_bubble(request->kind, request->devices, request->micro_batches,
                                      request->chunks, request->backward_ratio);
        row["micro_batches"] = request->micro_batches;
        row["chunks"] = request->chunks;
        row["backward_ratio"] = request->backward_ratio;
        row["bubble"] = m.result.mean_bubble_fraction();
        row["formula_bubble"] = formula ? json(*formula) : json(nullptr);
        row["bubble_error"] = formula ? json(m.result.mean_bubble_fraction() - *formula) : json(nullptr);
      }
      rows.push_back(row);
    }
  }
  return {{"configurations", rows}};
}

std::string render_training_validation(const json& v) {
  report::Table t;
  t.title =
      "Paper configurations: whatif's counts and measured bubbles next to the papers' figures and formulas";
  t.headers = {"model",      "scheme", "GPUs", "t x p",  "params (B)", "paper (B)", "error",
               "PFLOP/iter", "m",      "v",    "bubble", "formula",    "error"};
  t.right_align = {false, false, true, true, true, true, true, true, true, true, true, true, true};
  for (const auto& r : v["configurations"]) {
    auto opt = [&](const char* key, const char* format, double scale = 1.0) -> std::string {
      if (!r.contains(key) || r[key].is_null()) return "-";
      return fmt::format(fmt::runtime(format), r[key].get<double>() * scale);
    };
    double paper = r["paper_parameters"].get<double>();
    t.rows.push_back(
        {r["model"].get<std::string>(), r["scheme"].get<std::string>(), std::to_string(r["gpus"].get<int>()),
         fmt::format("{} x {}", r["tensor"].get<int>(), r["pipeline"].get<int>()),
         opt("parameters", "{:.2f}", 1e-9), paper > 0 ? fmt::format("{:.1f}", paper * 1e-9) : "-",
         paper > 0 ? opt("parameters_error", "{:+.2f}%", 100) : "-",
         opt("flops_per_iteration", "{:.1f}", 1e-15),
         r.contains("micro_batches") ? std::to_string(r["micro_batches"].get<int>()) : "-",
         r.contains("chunks") ? std::to_string(r["chunks"].get<int>()) : "-", opt("bubble", "{:.4f}"),
         opt("formula_bubble", "{:.4f}"), opt("bubble_error", "{:+.1e}")});
  }
  return t.render() +
         "Bubbles: equal stages, free communication, executed schedule; backward = 3 x forward under full "
         "recompute,\n"
         "Chimera's basic unit N = D with backward = forward (the only ratio its formula holds for).\n"
         "Simulated iteration times and TFLOP/s against the papers' measurements: `whatif run` on\n"
         "workloads/training/ (each Megatron experiment carries Table 1's measured TFLOP/s as its "
         "reference),\n"
         "or scripts/validate_training.py for all of them.\n";
}

}  // namespace whatif::training
