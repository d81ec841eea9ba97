// Workload kind `mpi-replay`: reading its experiment mapping and reporting a replay.
#include "mpi/workload.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "core/units.hpp"
#include "mpi/program.hpp"

namespace whatif::mpi {

namespace fs = std::filesystem;

MpiReplaySpec parse_mpi_replay(const YAML::Node& workload, const core::Scope& scope,
                               const platform::PlatformSpec& platform) {
  (void)platform;
  MpiReplaySpec spec;
  core::MapReader r(workload, scope);
  r.string("kind", true);
  fs::path base = fs::path(scope.file).parent_path();
  auto resolve = [&](const std::string& p) {
    return fs::path(p).is_absolute() ? p : (base / p).lexically_normal().string();
  };
  ReplayOptions& o = spec.options;
  if (auto t = r.string("trace", true)) spec.trace_dir = resolve(*t);
  if (auto m = r.string("map")) o.map = (*m == "block" || *m == "round-robin") ? *m : resolve(*m);
  if (auto l = r.choice("library", {"mpich", "openmpi"})) o.library = parse_mpi_library(*l);
  if (auto e = r.quantity("eager_threshold", core::Dimension::size, core::Sign::non_negative))
    o.eager_threshold = *e;
  if (auto s = r.number("compute_scale", 0, 1e6)) o.compute_scale = *s;
  if (auto s = r.quantity("traced_core_speed", core::Dimension::flop_rate)) o.traced_core_speed = *s;
  if (auto s = r.quantity("tracing_overhead", core::Dimension::time, core::Sign::non_negative))
    o.tracing_overhead = *s;
  if (auto s = r.quantity("call_gap", core::Dimension::time, core::Sign::non_negative)) o.call_gap = *s;
  if (auto s = r.quantity("launch_overhead", core::Dimension::time, core::Sign::non_negative))
    o.launch_overhead = *s;
  if (auto c = r.string("comms")) o.comms_file = resolve(*c);
  if (auto n = r.integer("timeline_events", 0, 100'000'000)) o.timeline_limit = static_cast<std::size_t>(*n);
  r.finish();
  // Problems inside the trace or the comms file keep their own file and position; others name the key.
  auto pass_on = [&](const core::InputError& e, const core::Location& where, const char* field) {
    if (e.diagnostics().empty() || e.diagnostics().front().location.file.empty()) {
      scope.diag->error(where, "workload", "mpi-replay", field, e.what());
      return;
    }
    for (const auto& d : e.diagnostics())
      scope.diag->add(d);
  };
  if (!spec.trace_dir.empty()) {
    try {
      spec.trace = read_pilgrim_trace(spec.trace_dir);
    } catch (const core::InputError& e) {
      pass_on(e, r.location("trace"), "trace");
    }
  }
  if (!o.comms_file.empty() && spec.trace.ranks > 0) {
    try {
      load_comm_map(o.comms_file, spec.trace.ranks);
    } catch (const core::InputError& e) {
      pass_on(e, r.location("comms"), "comms");
    }
  }
  return spec;
}

report::WorkloadOutput run_mpi_replay(const MpiReplaySpec& spec, const platform::PlatformSpec& platform,
                                      sim::SimEngine& engine) {
  ReplayReport rep = replay_trace(spec.trace, platform, spec.options, engine);
  report::WorkloadOutput out;
  report::Table ranks;
  ranks.title = "ranks";
  ranks.headers = {"rank",        "host",  "end (s)",  "compute (s)", "p2p (s)", "collectives (s)",
                   "waiting (s)", "calls", "messages", "bytes sent"};
  ranks.right_align = {true, false, true, true, true, true, true, true, true, true};
  nlohmann::json per_rank = nlohmann::json::array();
  for (const auto& r : rep.ranks) {
    ranks.rows.push_back({std::to_string(r.rank), r.host, fmt::format("{:.6f}", r.end),
                          fmt::format("{:.6f}", r.compute), fmt::format("{:.6f}", r.point_to_point),
                          fmt::format("{:.6f}", r.collectives), fmt::format("{:.6f}", r.waiting),
                          std::to_string(r.calls), std::to_string(r.messages),
                          core::format_quantity(r.bytes_sent, core::Dimension::size)});
    per_rank.push_back({{"rank", r.rank},
                        {"host", r.host},
                        {"end_s", r.end},
                        {"compute_s", r.compute},
                        {"point_to_point_s", r.point_to_point},
                        {"collectives_s", r.collectives},
                        {"waiting_s", r.waiting},
                        {"calls", r.calls},
                        {"messages", r.messages},
                        {"bytes_sent", r.bytes_sent}});
  }
  out.tables.push_back(std::move(ranks));
  out.table_files.push_back("ranks.csv");
  out.metrics = {{"run_time_s", rep.run_time},
                 {"application_time_s", rep.application_time},
                 {"launch_overhead_s", spec.options.launch_overhead},
                 {"ranks", spec.trace.ranks},
                 {"calls", rep.calls},
                 {"messages", rep.messages},
                 {"collectives", rep.collectives},
                 {"eager_threshold_bytes", rep.eager_threshold},
                 {"library", std::string(to_string(spec.options.library))},
                 {"trace", spec.trace_dir},
                 {"trace_format", spec.trace.version.label()},
                 {"timing_mode", std::string(to_string(spec.trace.timing))},
                 {"per_rank", per_rank}};
  out.summary_lines.push_back(
      fmt::format("predicted run time {:.6f} s (application {:.6f} s + launch {:.6f} s)", rep.run_time,
                  rep.application_time, spec.options.launch_overhead));
  out.warnings = rep.notes;
  if (rep.timeline_truncated)
    out.warnings.push_back(fmt::format("timeline.json holds the first {} events only (timeline_events)",
                                       spec.options.timeline_limit));
  out.timeline = std::move(rep.timeline);
  return out;
}

}  // namespace whatif::mpi
