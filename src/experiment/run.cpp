// The experiment pipeline: load, validate (all errors at once), build the platform, run the workload, report.
#include "experiment/run.hpp"

#include <filesystem>
#include <functional>
#include <fmt/format.h>
#include <sstream>

#include "experiment/collective_bench.hpp"
#include "experiment/experiment.hpp"
#include "mpi/workload.hpp"
#include "platform/builder.hpp"
#include "report/folder.hpp"
#include "sim/engine.hpp"
#include "training/training_runner.hpp"
#include "training/workload.hpp"

namespace whatif::experiment {

const std::vector<std::string>& workload_kinds() {
  static const std::vector<std::string> kinds{"collective-bench", "training", "mpi-replay"};
  return kinds;
}

namespace {

std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

namespace {

// Everything before the engine: the experiment, its platform and its validated workload.
struct Prepared {
  Experiment e;
  platform::PlatformSpec platform;
  std::function<report::WorkloadOutput(sim::SimEngine&, const platform::PlatformSpec&)> run_workload;
};

std::unique_ptr<Prepared> prepare(const RunOptions& options) {
  auto p = std::make_unique<Prepared>();
  p->e = load_experiment(options.file, options.sets, options.seed, options.text);
  const Experiment& e = p->e;
  p->platform = platform::load_platform(e.platform_file, e.platform_parameters);
  const platform::PlatformSpec& platform = p->platform;

  core::Diagnostics diag;
  core::Scope scope{e.file, "workload", e.kind, &diag, nullptr};
  // Each kind validates its workload now and leaves what runs it once the platform is built.
  if (e.kind == "collective-bench") {
    p->run_workload = [spec = parse_collective_bench(e.workload, scope, platform)](
                          sim::SimEngine& engine, const platform::PlatformSpec&) {
      return run_collective_bench(spec, engine);
    };
  } else if (e.kind == "training") {
    p->run_workload = [spec = training::parse_training(e.workload, scope, platform)](
                          sim::SimEngine& engine, const platform::PlatformSpec& pl) {
      return training::run_training(spec, pl, engine);
    };
  } else if (e.kind == "mpi-replay") {
    p->run_workload =
        [spec = std::make_shared<mpi::MpiReplaySpec>(mpi::parse_mpi_replay(e.workload, scope, platform))](
            sim::SimEngine& engine, const platform::PlatformSpec& pl) {
          return mpi::run_mpi_replay(*spec, pl, engine);
        };
  } else {
    diag.error(core::location_of(e.file, e.workload["kind"]), "workload", "", "kind",
               fmt::format("unknown workload kind '{}'{} (known: {})", e.kind,
                           core::did_you_mean(e.kind, workload_kinds()), fmt::join(workload_kinds(), ", ")));
  }
  diag.throw_if_errors();
  return p;
}

// The results folder: summary.json, the workload's tables, timeline.json, and a run.yaml that runs again as
// it is (the platform named by its absolute path with every parameter's value).
void write_results(const std::string& dir, const RunOptions& options, const Experiment& e,
                   const platform::PlatformSpec& platform, const nlohmann::json& summary,
                   const report::WorkloadOutput& output) {
  report::ResultsFolder folder(dir);
  folder.write_json("summary.json", summary);
  for (size_t i = 0; i < output.tables.size(); ++i)
    folder.write_csv(output.table_files[i], output.tables[i]);
  folder.write_text("timeline.json", output.timeline.to_chrome_json());

  YAML::Node run = YAML::Clone(e.root);
  YAML::Node platform_ref;
  platform_ref["file"] = std::filesystem::absolute(platform.file).lexically_normal().string();
  for (const auto& [k, v] : platform.parameters)
    platform_ref["parameters"][k] = v;
  run["platform"] = platform_ref;
  YAML::Node resolved;
  resolved["seed"] = e.seed;
  resolved["platform_file"] = platform.file;
  for (const auto& [k, v] : platform.parameters)
    resolved["platform_parameters"][k] = v;
  for (const auto& option : options.simgrid_args)
    resolved["simgrid_options"].push_back(option);
  resolved["whatif_version"] = WHATIF_VERSION;
  resolved["simgrid_version"] = sim::simgrid_version();
  run["resolved"] = resolved;
  folder.write_text("run.yaml", yaml_text(run));
}

}  // namespace

void check_experiment(const RunOptions& options) {
  prepare(options);
}

RunReport run_experiment(const RunOptions& options) {
  std::unique_ptr<Prepared> prepared = prepare(options);
  const Experiment& e = prepared->e;
  platform::PlatformSpec& platform = prepared->platform;

  sim::SimEngine engine(options.simgrid_args);
  platform::build_platform(platform);
  report::WorkloadOutput output = prepared->run_workload(engine, platform);

  RunReport report;
  nlohmann::json summary{{"experiment", e.name},
                         {"file", e.file},
                         {"kind", e.kind},
                         {"platform", {{"name", platform.name}, {"file", platform.file}}},
                         {"seed", e.seed},
                         {"simulated_time_s", engine.now()},
                         {"versions", {{"whatif", WHATIF_VERSION}, {"simgrid", sim::simgrid_version()}}},
                         {"metrics", output.metrics}};
  if (!output.warnings.empty()) summary["warnings"] = output.warnings;
  std::vector<std::string> reference_lines;
  if (!e.reference.empty()) {
    core::Diagnostics bad;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& ref : e.reference) {
      const auto it = output.metrics.find(ref.metric);
      if (it == output.metrics.end() || !it->is_number()) {
        std::vector<std::string> known;
        for (const auto& [k, v] : output.metrics.items())
          if (v.is_number()) known.push_back(k);
        bad.error(ref.where, "experiment", e.name, "reference",
                  fmt::format("'{}' is not a numeric metric of a {} run{} (known: {})", ref.metric, e.kind,
                              core::did_you_mean(ref.metric, known), fmt::join(known, ", ")));
        continue;
      }
      const double predicted = it->get<double>();
      const double error = ref.value != 0 ? (predicted - ref.value) / ref.value : 0.0;
      metrics[ref.metric] = {{"reference", ref.value}, {"predicted", predicted}, {"error", error}};
      reference_lines.push_back(fmt::format("  {}: predicted {:.4g}, reference {:.4g}, error {:+.1f} %",
                                            ref.metric, predicted, ref.value, 100 * error));
    }
    bad.throw_if_errors();
    summary["reference"] = {{"source", e.reference_source}, {"metrics", metrics}};
  }
  for (const auto& [k, v] : platform.parameters)
    summary["platform"]["parameters"][k] = v;
  if (options.write_results) {
    report.out_dir = options.out_dir.value_or("results/" + e.name);
    write_results(report.out_dir, options, e, platform, summary, output);
  }

  report.summary = summary;
  report.warnings = output.warnings;
  std::ostringstream text;
  text << fmt::format("experiment {} on platform {} (seed {})\n", e.name, platform.name, e.seed);
  if (!output.tables.empty()) text << output.tables.front().render();
  for (const auto& line : output.summary_lines)
    text << line << "\n";
  if (!reference_lines.empty()) {
    text << "against the reference (" << e.reference_source << "):\n";
    for (const auto& line : reference_lines)
      text << line << "\n";
  }
  report.text = text.str();
  return report;
}

}  // namespace whatif::experiment
