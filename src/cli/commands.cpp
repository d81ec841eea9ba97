// Subcommand definitions and handlers: each parses its options and calls into the library.
#include "cli/commands.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "core/units.hpp"
#include "experiment/run.hpp"
#include "gpu/model.hpp"
#include "gpu/report.hpp"
#include "gpu/stack_distance.hpp"
#include "platform/catalog.hpp"
#include "report/folder.hpp"
#include "platform/builder.hpp"
#include "platform/describe.hpp"
#include "report/json.hpp"
#include "sim/bench_engine.hpp"
#include "sim/engine.hpp"
#include "training/analysis.hpp"
#include "training/pipeline_runner.hpp"

namespace whatif::cli {

core::Parameters parse_parameters(const std::vector<std::string>& sets) {
  core::Parameters out;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw core::InputError(fmt::format("--set '{}': expected name=value", s));
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

long process_status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(status, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  return 0;
}

void print_run_report(const experiment::RunReport& report, bool json) {
  for (const auto& w : report.warnings)
    std::cerr << "warning: " << w << "\n";
  if (json)
    std::cout << report::json_text(report.summary);
  else
    std::cout << report.text << (report.out_dir.empty() ? "" : fmt::format("results: {}\n", report.out_dir));
}

void Commands::add_to(CLI::App& app) {
  app.require_subcommand(0, 1);

  run_ = app.add_subcommand("run", "Run one experiment file and write its results folder");
  run_->add_option("experiment", file_, "Experiment YAML file")->required();
  run_->add_option("-o,--out", out_, "Results folder (default: results/<experiment name>)");
  run_->add_option("--set", sets_, "Override a value of the experiment: path.to.key=value (repeatable)");
  run_->add_option("--seed", seed_, "Random seed (recorded in run.yaml)");
  run_->add_flag("--json", json_, "Print summary.json instead of the table");
  run_->add_flag("--no-files", no_files_,
                 "Write no results folder: only print the table (or, with --json, the summary)")
      ->excludes("--out");
  run_->footer(
      "Example:\n  whatif run workloads/collective-bench/allreduce-dgx-a100.yaml -o out/ar "
      "--set workload.sizes.to=1GiB");

  CLI::App* platform = app.add_subcommand("platform", "Check, show or draw a platform file");
  platform->require_subcommand(1);
  platform->footer("Example:\n  whatif platform show platforms/selene.yaml --set nodes=16");
  auto add_platform_cmd = [&](const char* name, const char* help, const char* example) {
    CLI::App* cmd = platform->add_subcommand(name, help);
    cmd->add_option("platform", file_, "Platform YAML file")->required();
    cmd->add_option("--set", sets_, "Set a platform parameter: name=value (repeatable)");
    cmd->add_flag("--json", json_, "Print JSON");
    cmd->footer(fmt::format("Example:\n  {}", example));
    return cmd;
  };
  check_ = add_platform_cmd("check", "Validate a platform file (and build it into SimGrid)",
                            "whatif platform check platforms/dgx-a100.yaml");
  show_ = add_platform_cmd("show",
                           "Print hosts, GPUs and the GPU-to-GPU bandwidth/latency matrix of each node type",
                           "whatif platform show platforms/dgx1-v100.yaml");
  show_->add_option("--max-hosts", max_hosts_, "Hosts to list (default 64)");
  dot_ = add_platform_cmd(
      "dot", "Write the platform as Graphviz DOT",
      "whatif platform dot platforms/dgx1-v100.yaml -o dgx1.dot && dot -Tpng dgx1.dot -o dgx1.png");
  dot_->add_option("-o,--out", out_, "Output file (default: stdout)");

  CLI::App* bench = app.add_subcommand("bench", "Performance benchmarks of whatif itself");
  bench->require_subcommand(1);
  bench->footer(
      "Examples:\n  whatif bench engine\n  whatif bench platform platforms/selene.yaml --set nodes=512");
  bench_engine_ = bench->add_subcommand(
      "engine",
      "Activities per second: raw SimGrid ping-pong against the same traffic through whatif's sim layer");
  bench_engine_->add_option("--activities", activities_, "Messages per phase (default 200000)");
  bench_engine_->add_flag("--json", json_, "Print JSON");
  bench_engine_->footer("Example:\n  whatif bench engine --activities 500000");
  bench_platform_ = bench->add_subcommand("platform", "Time and memory to load and build a platform");
  bench_platform_->add_option("platform", file_, "Platform YAML file")->required();
  bench_platform_->add_option("--set", sets_, "Set a platform parameter: name=value (repeatable)");
  bench_platform_->add_flag("--json", json_, "Print JSON");
  bench_platform_->footer("Example:\n  whatif bench platform platforms/selene.yaml --set nodes=512");

  CLI::App* training = app.add_subcommand("training", "Pipeline-parallel training tools");
  training->require_subcommand(1);
  training->footer(
      "Example:\n  whatif training schedule --schedule chimera --stages 4 --micro-batches 4 --timeline");
  training_schedule_ = training->add_subcommand(
      "schedule", "Print a pipeline schedule's per-device order, its executed timeline and bubbles");
  training_schedule_->add_option("--schedule", schedule_,
                                 "gpipe | 1f1b | interleaved-1f1b | chimera (default 1f1b)");
  training_schedule_->add_option("--stages", stages_, "Pipeline devices D (default 4)");
  training_schedule_->add_option("--micro-batches", micro_batches_,
                                 "Micro-batches per pipeline N (default 8)");
  training_schedule_->add_option("--chunks", chunks_,
                                 "Model chunks per device v, interleaved-1f1b only (default 1)");
  training_schedule_->add_option(
      "--variant", variant_,
      "Chimera for N > D: direct | forward-doubling | backward-halving (default direct)");
  training_schedule_->add_option("--backward-ratio", backward_ratio_,
                                 "Backward time / forward time (default 2)");
  training_schedule_->add_flag("--timeline", timeline_, "Also draw the executed timeline");
  training_schedule_->add_flag("--json", json_, "Print JSON");
  training_schedule_->footer(
      "Example:\n  whatif training schedule --schedule interleaved-1f1b --stages 4 --micro-batches 8 "
      "--chunks 2 "
      "--timeline");

  CLI::App* gpu = app.add_subcommand("gpu", "GPU kernel traces (PPT-GPU, Accel-Sim): inspect and predict");
  gpu->require_subcommand(1);
  gpu->footer(
      "Examples:\n  whatif gpu info traces/ppt-gpu/rodinia-bfs\n  whatif gpu predict "
      "traces/ppt-gpu/rodinia-bfs --gpu A100-SXM4-80GB");
  gpu_predict_ = gpu->add_subcommand(
      "predict", "Predict each traced kernel's time, occupancy, caches and stalls on a GPU");
  gpu_predict_->add_option("trace", file_, "Trace folder (PPT-GPU or Accel-Sim)")->required();
  gpu_predict_->add_option("--gpu", gpu_, "Catalog GPU (default TITAN-V)");
  gpu_predict_->add_option("--kernel", kernels_, "Kernel ids (repeatable; default all)");
  gpu_predict_->add_option("-o,--out", out_, "Results folder (default: results/gpu-<trace>-<gpu>)");
  gpu_predict_->add_flag("--json", json_, "Print summary.json instead of the tables");
  gpu_predict_->footer(
      "Example:\n  whatif gpu predict traces/ppt-gpu/rodinia-bfs --gpu H100-SXM5-80GB --kernel 1 --kernel 2");
  gpu_info_ = gpu->add_subcommand(
      "info", "Kernels, launch shapes, instruction mix and trace sizes of a trace folder");
  gpu_info_->add_option("trace", file_, "Trace folder (PPT-GPU or Accel-Sim)")->required();
  gpu_info_->add_option("--kernel", kernels_, "Kernel ids (repeatable; default all)");
  gpu_info_->add_flag("--json", json_, "Print JSON");
  gpu_info_->footer("Example:\n  whatif gpu info traces/ppt-gpu/rodinia-bfs");
  bench_gpu_ =
      bench->add_subcommand("gpu", "Kernel model speed: a whole traced application, and stack distances");
  bench_gpu_->add_option("trace", file_, "Trace folder (default traces/ppt-gpu/rodinia-bfs)");
  bench_gpu_->add_option("--gpu", gpu_, "Catalog GPU (default TITAN-V)");
  bench_gpu_->add_flag("--json", json_, "Print JSON");
  bench_gpu_->footer("Example:\n  whatif bench gpu traces/ppt-gpu/rodinia-bfs");

  CLI::App* validate = app.add_subcommand("validate", "Compare whatif against published figures");
  validate->require_subcommand(1);
  validate_training_ = validate->add_subcommand(
      "training",
      "Paper configurations (Megatron-LM Table 1, Chimera): counts and bubbles against the papers");
  validate_training_->add_flag("--json", json_, "Print JSON");
  validate_training_->footer("Example:\n  whatif validate training");
  validate_gpu_ = validate->add_subcommand(
      "gpu", "The kernel model against PPT-GPU's own reports for the same traces and hardware description");
  validate_gpu_->add_option("trace", file_, "Trace folder (default traces/ppt-gpu/rodinia-bfs)");
  validate_gpu_->add_option("--gpu", gpu_, "Catalog GPU (default TITAN-V-PPT-GPU, PPT-GPU's TITAN V)");
  validate_gpu_->add_option("--reference", reference_, "PPT-GPU reports (default TRACE/reference-outputs)");
  validate_gpu_->add_flag("--json", json_, "Print JSON");
  validate_gpu_->footer("Example:\n  whatif validate gpu traces/ppt-gpu/rodinia-bfs");
}

int Commands::execute() {
  if (run_->parsed()) return run_experiment();
  if (check_->parsed()) return platform("check");
  if (show_->parsed()) return platform("show");
  if (dot_->parsed()) return platform("dot");
  if (bench_engine_->parsed()) return bench_engine();
  if (bench_platform_->parsed()) return bench_platform();
  if (training_schedule_->parsed()) return training_schedule();
  if (validate_training_->parsed()) return validate_training();
  if (gpu_predict_->parsed()) return gpu_predict();
  if (gpu_info_->parsed()) return gpu_info();
  if (validate_gpu_->parsed()) return validate_gpu();
  if (bench_gpu_->parsed()) return bench_gpu();
  return 2;
}

int Commands::run_experiment() {
  experiment::RunOptions options;
  options.file = file_;
  options.out_dir = out_;
  options.sets = sets_;
  options.seed = seed_;
  options.simgrid_args = simgrid_args_;
  options.write_results = !no_files_;
  print_run_report(experiment::run_experiment(options), json_);
  return 0;
}

int Commands::platform(const std::string& action) {
  platform::PlatformSpec spec = platform::load_platform(file_, parse_parameters(sets_));
  if (action == "check") {
    // Building proves SimGrid accepts it (zones, routes); the engine lives until the process ends.
    sim::SimEngine engine(simgrid_args_);
    platform::BuildSummary b = platform::build_platform(spec);
    nlohmann::json j{{"platform", spec.name}, {"file", spec.file}, {"ok", true},       {"nodes", b.nodes},
                     {"gpus", b.gpus},        {"hosts", b.hosts},  {"links", b.links}, {"routes", b.routes}};
    if (json_)
      std::cout << report::json_text(j);
    else
      std::cout << fmt::format("{}: ok: platform '{}', {} node(s), {} GPU(s), {} host(s), {} link(s)\n",
                               spec.file, spec.name, b.nodes, b.gpus, b.hosts, b.links);
    return 0;
  }
  if (action == "show") {
    nlohmann::json d = platform::describe_platform(spec, max_hosts_);
    std::cout << (json_ ? report::json_text(d) : platform::render_description(d));
    return 0;
  }
  std::string dot = platform::platform_dot(spec);
  if (out_) {
    std::ofstream out(*out_);
    out << dot;
    if (!out) throw core::InputError(fmt::format("cannot write '{}'", *out_));
    if (json_) std::cout << report::json_text({{"dot", *out_}});
  } else {
    std::cout << (json_ ? report::json_text({{"dot", dot}}) : dot);
  }
  return 0;
}

int Commands::bench_engine() {
  if (activities_ < 2) throw core::InputError("--activities must be at least 2");
  sim::SimEngine engine(simgrid_args_);
  // GPipe keeps up to 64 asynchronous sends in flight, 1F1B one: both are reported.
  std::vector<sim::BenchPhase> phases;
  for (auto kind : {training::ScheduleKind::one_f_one_b, training::ScheduleKind::gpipe})
    phases.push_back({fmt::format("pipeline runner, {}", training::to_string(kind)),
                      [&, kind](const std::vector<std::string>& hosts) {
                        return training::bench_pipeline(kind, hosts, activities_, engine);
                      }});
  sim::EngineBenchResult r = sim::bench_engine(activities_, phases);
  if (json_) {
    nlohmann::json j{{"activities", r.activities},
                     {"raw_activities_per_s", r.raw_per_second},
                     {"sim_layer_activities_per_s", r.sim_per_second},
                     {"ratio", r.ratio},
                     {"target_ratio", 0.8}};
    for (const auto& p : r.phases)
      j["phases"].push_back({{"name", p.name},
                             {"activities", p.activities},
                             {"activities_per_s", p.per_second},
                             {"ratio", p.ratio}});
    std::cout << report::json_text(j);
  } else {
    std::cout << fmt::format(
        "engine benchmark, {} activities per phase\n  raw SimGrid ping-pong    : {:>12.0f} activities/s\n"
        "  whatif sim layer         : {:>12.0f} activities/s  ratio {:.3f} (target >= 0.8)\n",
        r.activities, r.raw_per_second, r.sim_per_second, r.ratio);
    for (const auto& p : r.phases)
      std::cout << fmt::format("  {:<24} : {:>12.0f} activities/s  ratio {:.3f} (target >= 0.8)\n", p.name,
                               p.per_second, p.ratio);
  }
  return 0;
}

int Commands::bench_platform() {
  auto t0 = std::chrono::steady_clock::now();
  platform::PlatformSpec spec = platform::load_platform(file_, parse_parameters(sets_));
  auto t1 = std::chrono::steady_clock::now();
  sim::SimEngine engine(simgrid_args_);
  platform::BuildSummary b = platform::build_platform(spec);
  auto t2 = std::chrono::steady_clock::now();
  double load_s = std::chrono::duration<double>(t1 - t0).count();
  double build_s = std::chrono::duration<double>(t2 - t1).count();
  long rss = process_status_kib("VmHWM") * 1024;
  if (json_) {
    std::cout << report::json_text(nlohmann::json{{"platform", spec.name},
                                                  {"nodes", b.nodes},
                                                  {"gpus", b.gpus},
                                                  {"hosts", b.hosts},
                                                  {"links", b.links},
                                                  {"load_s", load_s},
                                                  {"build_s", build_s},
                                                  {"peak_rss_bytes", rss}});
  } else {
    std::cout << fmt::format(
        "platform {}: {} nodes, {} GPUs, {} hosts, {} links\n  load+validate : {:.3f} s\n  SimGrid build : "
        "{:.3f} s\n"
        "  peak RSS      : {}\n",
        spec.name, b.nodes, b.gpus, b.hosts, b.links, load_s, build_s,
        core::format_quantity(static_cast<double>(rss), core::Dimension::size));
  }
  return 0;
}

int Commands::training_schedule() {
  training::ScheduleRequest r;
  r.kind = training::parse_schedule_kind(schedule_);
  r.variant = training::parse_chimera_variant(variant_);
  r.devices = stages_;
  r.micro_batches = micro_batches_;
  r.chunks = chunks_;
  if (!(backward_ratio_ > 0) || !std::isfinite(backward_ratio_))
    throw core::InputError(
        fmt::format("--backward-ratio must be a positive number, got {}", backward_ratio_));
  r.backward_ratio = backward_ratio_;
  constexpr long kMaxSteps = 50'000'000;
  if (static_cast<long>(stages_) * micro_batches_ * chunks_ > kMaxSteps)
    throw core::InputError(fmt::format("{} stages x {} micro-batches x {} chunks is more than whatif prints",
                                       stages_, micro_batches_, chunks_));
  nlohmann::json a = training::analyse_schedule(r);
  if (!timeline_) a.erase("timeline");
  std::cout << (json_ ? report::json_text(a) : training::render_schedule_analysis(a, timeline_));
  return 0;
}

int Commands::validate_training() {
  nlohmann::json v = training::validate_training();
  std::cout << (json_ ? report::json_text(v) : training::render_training_validation(v));
  return 0;
}

namespace {

std::string trace_or_default(const std::string& file) {
  return file.empty() ? "traces/ppt-gpu/rodinia-bfs" : file;
}

gpu::GpuHardware hardware(const std::string& trace, const std::string& name) {
  return gpu::load_gpu_hardware(platform::find_models_dir(trace + "/"), name);
}

}  // namespace

int Commands::gpu_predict() {
  gpu::GpuHardware hw = hardware(file_, gpu_);
  gpu::AppPrediction p = gpu::predict_application(gpu::read_trace_dir(file_, kernels_), hw);
  const std::string name = std::filesystem::path(file_).lexically_normal().filename().string();
  report::ResultsFolder folder(out_.value_or(fmt::format("results/gpu-{}-{}", name, hw.name)));
  nlohmann::json summary = gpu::prediction_json(p);
  folder.write_json("summary.json", summary);
  folder.write_csv("kernels.csv", gpu::kernel_table(p));
  folder.write_csv("stalls.csv", gpu::stall_table(p));
  for (const auto& w : p.warnings)
    std::cerr << "warning: " << w << "\n";
  if (json_)
    std::cout << report::json_text(summary);
  else
    std::cout << gpu::render_prediction(p) << fmt::format("results: {}\n", folder.dir());
  return 0;
}

int Commands::gpu_info() {
  nlohmann::json info = gpu::trace_info_json(gpu::read_trace_dir(file_, kernels_));
  std::cout << (json_ ? report::json_text(info) : gpu::render_trace_info(info));
  return 0;
}

int Commands::validate_gpu() {
  const std::string trace = trace_or_default(file_);
  if (gpu_ == "TITAN-V" && !validate_gpu_->count("--gpu")) gpu_ = "TITAN-V-PPT-GPU";
  gpu::AppPrediction p = gpu::predict_application(gpu::read_trace_dir(trace), hardware(trace, gpu_));
  nlohmann::json c =
      gpu::compare_with_ppt(p, gpu::read_ppt_reports(reference_.value_or(trace + "/reference-outputs")));
  std::cout << (json_ ? report::json_text(c) : gpu::render_ppt_comparison(c));
  return 0;
}

int Commands::bench_gpu() {
  const std::string trace = trace_or_default(file_);
  gpu::GpuHardware hw = hardware(trace, gpu_);
  // The whole application, read and predicted, best of five.
  double best = std::numeric_limits<double>::infinity();
  std::size_t kernels = 0;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    gpu::AppPrediction p = gpu::predict_application(gpu::read_trace_dir(trace), hw);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    kernels = p.kernels.size();
  }
  // PPT-GPU's own run on the shipped BFS traces (traces/ppt-gpu/rodinia-bfs/PROVENANCE.md).
  constexpr double kPptGpuSeconds = 8.68;
  const double accesses = gpu::bench_stack_distance(10'000'000, 1'000'000, 1);
  gpu::StackDistance sd;
  for (std::uint64_t k = 0; k < 1'000'000; ++k)
    sd.access(k * 2654435761u);
  const double bytes_per_line = static_cast<double>(sd.memory_bytes()) / static_cast<double>(sd.distinct());
  nlohmann::json j{{"trace", trace},
                   {"gpu", hw.name},
                   {"kernels", kernels},
                   {"application_seconds", best},
                   {"ppt_gpu_seconds", kPptGpuSeconds},
                   {"speedup_vs_ppt_gpu", kPptGpuSeconds / best},
                   {"stack_distance_accesses_per_second", accesses},
                   {"stack_distance_bytes_per_distinct_line", bytes_per_line}};
  if (json_) {
    std::cout << report::json_text(j);
  } else {
    std::cout << fmt::format(
        "{} kernels of {} on {}: {:.4f} s (read + predict, best of 5); PPT-GPU took {:.2f} s: {:.0f}x "
        "faster\n"
        "stack distance: {:.1f} M accesses/s (10 M accesses, 1 M distinct lines), {:.1f} B per distinct "
        "line\n",
        kernels, trace, hw.name, best, kPptGpuSeconds, kPptGpuSeconds / best, accesses / 1e6, bytes_per_line);
  }
  return 0;
}

}  // namespace whatif::cli
