// `whatif sweep plan|run|status|export` and `whatif bench sweep`.
#include "cli/sweep_commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli.hpp"
#include "core/diagnostics.hpp"
#include "core/units.hpp"
#include "report/json.hpp"
#include "report/table.hpp"
#include "sweep/plan.hpp"
#include "sweep/runner.hpp"
#include "sweep/store.hpp"

namespace whatif::cli {

namespace fs = std::filesystem;

namespace {

// Forked points inherit this process's symbol bindings; with lazy binding each point would look up (and copy
// the pages of) the same library symbols again. So a sweep that forks its points restarts itself once with
// LD_BIND_NOW=1 (measured: about 9 % less time per point). Returns where that was done already or exec fails.
void bind_symbols_now() {
  constexpr const char* kRestarted = "WHATIF_BOUND_NOW";
  if (std::getenv(kRestarted)) {  // this is the restarted process: what it execs later binds lazily again
    unsetenv(kRestarted);
    unsetenv("LD_BIND_NOW");
    return;
  }
  if (std::getenv("LD_BIND_NOW")) return;
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> words;
  for (std::size_t at = 0; at < cmdline.size();) {
    const std::size_t end = cmdline.find('\0', at);
    words.push_back(cmdline.substr(at, end - at));
    at = end == std::string::npos ? cmdline.size() : end + 1;
  }
  if (words.empty()) return;
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);
  setenv("LD_BIND_NOW", "1", 1);
  setenv(kRestarted, "1", 1);
  std::cout.flush();
  execv(self_executable().c_str(), argv.data());
  unsetenv(kRestarted);  // could not restart: go on with lazy binding
  unsetenv("LD_BIND_NOW");
}

// A point's child runs the whatif command line in a forked copy of this process.
int run_whatif(const std::vector<std::string>& args) {
  std::vector<std::string> words = {"whatif"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);
  return run_cli(static_cast<int>(words.size()), argv.data());
}

std::string default_db(const sweep::SweepSpec& spec) {
  return (fs::path("results") / (spec.name + ".sqlite")).string();
}

// A database value as CSV text: empty for NULL, strings as they are, numbers as JSON writes them.
std::string cell_text(const nlohmann::json& v) {
  return v.is_null() ? "" : v.is_string() ? v.get<std::string>() : v.dump();
}

std::optional<double> quantity_option(const std::optional<std::string>& text, core::Dimension dim,
                                      const char* option) {
  if (!text) return std::nullopt;
  try {
    return core::parse_quantity(*text, dim);
  } catch (const std::exception& e) {
    throw core::InputError(core::Location{option, 0, 0}, e.what());
  }
}

void print_plan(const sweep::SweepSpec& spec, const std::vector<sweep::Point>& points, std::uint64_t dropped,
                int show) {
  std::uint64_t distinct = points.empty() ? 0 : points.back().index + 1;
  std::cout << fmt::format("sweep {} ({}): base experiment {}\n", spec.name, spec.file, spec.experiment);
  for (const auto& p : spec.parameters) {
    std::string what =
        p.kind == sweep::Parameter::Kind::sample ? fmt::format("sampled {} in [{}, {}]{}", spec.sample_method,
                                                               p.low, p.high, p.log ? " (log)" : "")
        : p.kind == sweep::Parameter::Kind::derived
            ? fmt::format("= {}", p.expr->text())
            : fmt::format("{} values: {}", p.values.size(),
                          p.values.size() <= 8
                              ? fmt::format("{}", fmt::join(p.values, ", "))
                              : fmt::format("{}, {}, ..., {}", p.values[0], p.values[1], p.values.back()));
    std::cout << fmt::format(
        "  {} -> {}: {}{}\n", p.name,
        p.paths.empty() ? std::string("(a column only)") : fmt::format("{}", fmt::join(p.paths, ", ")), what,
        p.zip.empty() ? "" : fmt::format(" (zip {})", p.zip));
  }
  std::cout << fmt::format(
      "{} points ({} combinations, {} dropped by constraints) x {} repetition{} = {} runs\n", distinct,
      distinct + dropped, dropped, spec.repetitions, spec.repetitions > 1 ? "s" : "", points.size());
  for (int i = 0; i < show && i < static_cast<int>(points.size()); ++i) {
    const auto& p = points[static_cast<std::size_t>(i)];
    std::vector<std::string> shown;
    for (std::size_t k = 0; k < spec.parameters.size(); ++k)
      shown.push_back(spec.parameters[k].name + "=" + p.values[k]);
    std::cout << fmt::format("  point {} rep {} seed {}: {}\n", p.index, p.repetition, p.seed,
                             fmt::join(shown, " "));
  }
}

// An existing results database (status and export never create one).
std::unique_ptr<sweep::Store> open_results(const std::string& file) {
  if (!fs::is_regular_file(file))
    throw core::InputError(core::Location{file, 0, 0}, "no such results database");
  return std::make_unique<sweep::Store>(file);
}

}  // namespace

void SweepCommands::add_to(CLI::App& app, CLI::App& bench) {
  CLI::App* sweep =
      app.add_subcommand("sweep", "Batch parameter sweeps: plan, run (parallel, resumable), query");
  sweep->require_subcommand(1);
  sweep->footer(
      "Examples:\n  whatif sweep plan workloads/sweeps/allreduce-algorithms-dgx-a100.yaml\n"
      "  whatif sweep run workloads/sweeps/allreduce-algorithms-dgx-a100.yaml -j 2 --db results/ar.sqlite\n"
      "  whatif sweep export results/ar.sqlite --csv\n"
      "  mpirun -n 4 whatif sweep run SWEEP.yaml --mpi --db results/ar.sqlite");
  plan_ = sweep->add_subcommand("plan", "Count the points and show the first ones, running nothing");
  plan_->add_option("sweep", file_, "Sweep file (format whatif-sweep/1)")->required();
  plan_->add_option("--show", show_, "Points to show (default 5)");
  plan_->add_flag("--json", json_, "Print every point as JSON");
  run_ = sweep->add_subcommand("run", "Run every point not done yet, each in its own process");
  run_->add_option("sweep", file_, "Sweep file")->required();
  run_->add_option("-j,--jobs", jobs_, "Points at a time (default: the machine's cores)");
  run_->add_option("--db", db_, "SQLite results database (default results/<sweep name>.sqlite)");
  run_->add_flag("--retry-failed", retry_failed_, "Run the failed points again");
  run_->add_option("--timeout", timeout_, "Time limit per point (e.g. 10min; default: the sweep's, else 1h)");
  run_->add_option("--memory", memory_, "Resident memory limit per point (e.g. 4GiB; default: the sweep's)");
  run_->add_option("--keep-results", keep_results_, "Keep each point's results folder under this folder");
  run_->add_option("--limit", limit_, "Run at most this many points, then stop (resumable)");
  run_->add_option("--progress", progress_, "auto | bar | lines | quiet (default auto: a bar on a terminal)")
      ->check(CLI::IsMember({"auto", "bar", "lines", "quiet"}));
  run_->add_flag("--mpi", mpi_, "Distribute the points over MPI ranks (under mpirun or srun)");
  run_->add_flag(
      "--exec", exec_,
      "Start every point as a new whatif process, not a fork of this one (slower; --mpi always does)");
  status_ = sweep->add_subcommand("status", "Points planned, done, failed and in flight, per sweep");
  status_->add_option("db", file_, "Results database")->required();
  status_->add_flag("--json", json_, "Print JSON");
  export_ = sweep->add_subcommand("export", "Every point with its parameters and metrics, as CSV or JSON");
  export_->add_option("db", file_, "Results database")->required();
  export_->add_option("--sweep", sweep_name_, "Only this sweep (default: the latest)");
  export_->add_flag("--csv", csv_, "CSV (the default)");
  export_->add_flag("--json", json_, "JSON: a list of objects");
  export_->add_option("-o,--output", out_, "Write to this file instead of stdout");
  bench_ = bench.add_subcommand("sweep",
                                "Per-point overhead of a sweep over bare `whatif run`, and -j 2 efficiency");
  bench_->add_option("--points", points_, "Points (default 200)")->check(CLI::Range(4, 100000));
  bench_->add_option("--experiment", file_,
                     "Collective-bench experiment each point runs, one size per point (default "
                     "tests/golden/allreduce-mini-mesh.yaml)");
  bench_->add_option("--sweep", bench_sweep_, "Bench this sweep's first --points points instead")
      ->excludes("--experiment");
  bench_->add_flag("--json", json_, "Print JSON");
}

std::optional<int> SweepCommands::execute() {
  if (plan_->parsed()) return plan();
  if (run_->parsed()) return run();
  if (status_->parsed()) return status();
  if (export_->parsed()) return exportx();
  if (bench_->parsed()) return bench();
  return std::nullopt;
}

int SweepCommands::plan() {
  sweep::SweepSpec spec = sweep::load_sweep(file_);
  std::uint64_t dropped = 0;
  std::vector<sweep::Point> points = sweep::expand(spec, &dropped);
  sweep::check_points(spec, points);
  if (json_) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : points)
      out.push_back({{"point", p.index},
                     {"repetition", p.repetition},
                     {"seed", p.seed},
                     {"key", p.key},
                     {"set", sweep::assignments(spec, p)}});
    std::cout << report::json_text(out);
    return 0;
  }
  print_plan(spec, points, dropped, show_);
  if (points.empty()) std::cout << "nothing to run: the constraints drop every combination\n";
  return 0;
}

int SweepCommands::run() {
  if (!mpi_ && !exec_) bind_symbols_now();
  sweep::SweepSpec spec = sweep::load_sweep(file_);
  std::uint64_t dropped = 0;
  std::vector<sweep::Point> points = sweep::expand(spec, &dropped);
  sweep::RunSettings settings;
  settings.executable = self_executable();
  if (!mpi_ && !exec_) settings.run_in_child = run_whatif;
  settings.db = db_.value_or(default_db(spec));
  settings.jobs = jobs_ > 0 ? jobs_ : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  settings.retry_failed = retry_failed_;
  settings.timeout = quantity_option(timeout_, core::Dimension::time, "--timeout");
  settings.memory = quantity_option(memory_, core::Dimension::size, "--memory");
  settings.keep_results = keep_results_;
  settings.limit = limit_;
  settings.simgrid_args = simgrid_args_;
  settings.progress = progress_ == "bar"     ? sweep::RunSettings::Progress::bar
                      : progress_ == "lines" ? sweep::RunSettings::Progress::lines
                      : progress_ == "quiet" ? sweep::RunSettings::Progress::quiet
                                             : sweep::RunSettings::Progress::automatic;
  if (mpi_ && !sweep::mpi_available())
    throw core::InputError("--mpi: this whatif was built without MPI (install libopenmpi-dev and rebuild)");
  // Every point is checked before any runs (under MPI, every rank checks the same, deterministic plan).
  sweep::check_points(spec, points);
  std::error_code ec;
  if (fs::path parent = fs::path(settings.db).parent_path(); !parent.empty())
    fs::create_directories(parent, ec);
  sweep::SweepOutcome o =
      mpi_ ? sweep::run_sweep_mpi(spec, points, settings) : sweep::run_sweep(spec, points, settings);
  if (o.planned == 0 && mpi_) return 0;  // an MPI worker rank
  std::cout << fmt::format(
      "sweep {}: {} points planned, {} already recorded, {} ran now ({} done, {} failed) in {:.1f} "
      "s\nresults: {}\n",
      spec.name, o.planned, o.skipped, o.ran, o.done, o.failed, o.wall_s, settings.db);
  return 0;
}

int SweepCommands::status() {
  auto results = open_results(file_);
  sweep::Store& store = *results;
  auto sweeps = store.sweeps();
  if (json_) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : sweeps) {
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& [e, n] : store.errors(s.id, 5))
        errors.push_back({{"error", e}, {"points", n}});
      out.push_back({{"id", s.id},
                     {"name", s.name},
                     {"file", s.file},
                     {"created", s.created},
                     {"whatif_version", s.version},
                     {"planned", s.planned},
                     {"done", s.done},
                     {"failed", s.failed},
                     {"in_flight_or_interrupted", s.running},
                     {"remaining", s.planned - std::min(s.planned, s.done + s.failed)},
                     {"errors", errors}});
    }
    std::cout << report::json_text(out);
    return 0;
  }
  if (sweeps.empty()) std::cout << "no sweeps in " << file_ << "\n";
  for (const auto& s : sweeps) {
    std::cout << fmt::format("sweep {} '{}' ({}, created {}, whatif {})\n", s.id, s.name, s.file, s.created,
                             s.version);
    std::cout << fmt::format(
        "  planned {}, done {}, failed {}, in flight or interrupted {}, not started {}\n", s.planned, s.done,
        s.failed, s.running, s.planned - std::min(s.planned, s.done + s.failed + s.running));
    for (const auto& [e, n] : store.errors(s.id, 5))
      std::cout << fmt::format("  {} failed: {}\n", n, e.substr(0, 300));
  }
  return 0;
}

int SweepCommands::exportx() {
  auto results = open_results(file_);
  sweep::Store& store = *results;
  auto sweeps = store.sweeps();
  if (sweeps.empty()) throw core::InputError(core::Location{file_, 0, 0}, "holds no sweep");
  std::int64_t id = sweeps.back().id;
  if (sweep_name_) {
    auto it =
        std::find_if(sweeps.rbegin(), sweeps.rend(), [&](const auto& s) { return s.name == *sweep_name_; });
    if (it == sweeps.rend()) {
      std::vector<std::string> names;
      for (const auto& s : sweeps)
        names.push_back(s.name);
      throw core::InputError(fmt::format("--sweep: no sweep '{}' in {} (it has: {})", *sweep_name_, file_,
                                         fmt::join(names, ", ")));
    }
    id = it->id;
  }
  sweep::Store::Table t = store.points(id);
  std::ofstream file;
  if (out_) {
    file.open(*out_);
    if (!file) throw core::InputError(core::Location{*out_, 0, 0}, "cannot write");
  }
  std::ostream& out = out_ ? file : std::cout;
  if (json_) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : t.rows) {
      nlohmann::json o = nlohmann::json::object();
      for (std::size_t i = 0; i < t.columns.size(); ++i)
        o[t.columns[i]] = row[i];
      rows.push_back(std::move(o));
    }
    out << report::json_text(rows);
  } else {
    report::Table csv;
    csv.headers = t.columns;
    for (const auto& row : t.rows) {
      std::vector<std::string> cells;
      for (const auto& v : row)
        cells.push_back(cell_text(v));
      csv.rows.push_back(std::move(cells));
    }
    out << csv.to_csv();
  }
  return 0;
}

int SweepCommands::bench() {
  // A sweep of `points_` one-size allreduces (or the first points of a given sweep); the same points run bare
  // (one `whatif run` after another, then two at a time), then as a sweep with -j 1 and -j 2, forked and
  // exec'd, all from this process.
  bind_symbols_now();  // as `sweep run` does for forked points
  std::string experiment = file_.empty() ? "tests/golden/allreduce-mini-mesh.yaml" : file_;
  if (!bench_sweep_ && !fs::is_regular_file(experiment))
    throw core::InputError(core::Location{experiment, 0, 0},
                           "no such experiment (run from the repository root, or give --experiment)");
  char tmpl[] = "/tmp/whatif-bench-sweep-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("cannot make a scratch folder");
  fs::path dir = tmpl;
  if (!bench_sweep_) {
    std::ofstream s(dir / "bench.yaml");
    s << "format: whatif-sweep/1\nname: bench\nexperiment: " << fs::absolute(experiment).string()
      << "\nparameters:\n  - name: size\n    path: [workload.sizes.from, workload.sizes.to]\n    unit: B\n"
      << "    range: {from: 1024, to: " << 1024 * points_ << ", steps: " << points_ << "}\n";
  }
  sweep::SweepSpec spec = sweep::load_sweep(bench_sweep_ ? *bench_sweep_ : (dir / "bench.yaml").string());
  std::vector<sweep::Point> points = sweep::expand(spec);
  if (points.size() > static_cast<std::size_t>(points_)) points.resize(static_cast<std::size_t>(points_));
  if (bench_sweep_) experiment = *bench_sweep_;
  sweep::check_points(spec, points);  // as `sweep run` does: the catalogs are parsed once, before any point
  const std::string exe = self_executable();
  std::vector<std::vector<std::string>> commands;
  for (const auto& p : points) {
    std::vector<std::string> args = {"run",        spec.experiment, "--json",
                                     "--no-files", "--seed",        std::to_string(p.seed)};
    for (const auto& a : sweep::assignments(spec, p)) {
      args.push_back("--set");
      args.push_back(a);
    }
    commands.push_back(std::move(args));
  }
  // The same commands run bare, one after another, then two at a time (what the machine itself gives).
  auto bare_time = [&](std::size_t jobs) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (std::size_t j = 0; j < jobs; ++j)
      threads.emplace_back([&, j] {
        for (std::size_t i = j; i < commands.size(); i += jobs)
          sweep::run_bare(exe, commands[i]);
      });
    for (auto& t : threads)
      t.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const double bare = bare_time(1), bare2 = bare_time(2);
  auto sweep_time = [&](int jobs, bool fork) {
    sweep::RunSettings s;
    s.executable = exe;
    if (fork) s.run_in_child = run_whatif;
    s.db = (dir / fmt::format("j{}-{}.sqlite", jobs, fork)).string();
    s.jobs = jobs;
    s.progress = sweep::RunSettings::Progress::quiet;
    sweep::SweepOutcome o = sweep::run_sweep(spec, points, s);
    if (o.done != points.size())
      throw std::runtime_error(fmt::format("bench sweep: {} of {} points failed", o.failed, points.size()));
    return o.wall_s;
  };
  const double j1 = sweep_time(1, true), j2 = sweep_time(2, true);
  const double x1 = sweep_time(1, false), x2 = sweep_time(2, false);
  // The machine's ceiling for a process per point: forks that touch as many fresh pages as a point takes
  // faults (about 550) and compute for 15 ms, with nothing of whatif in them.
  const long control_iterations = static_cast<long>(0.015 * sweep::control_loop_rate());
  const double c1 = sweep::fork_control(points.size(), 1, 550, control_iterations);
  const double c2 = sweep::fork_control(points.size(), 2, 550, control_iterations);
  std::error_code ec;
  fs::remove_all(dir, ec);
  const double n = static_cast<double>(points.size());
  const double overhead_ms = (j1 - bare) / n * 1e3, efficiency = j1 / (2 * j2), machine = bare / (2 * bare2);
  const double exec_overhead_ms = (x1 - bare) / n * 1e3, exec_efficiency = x1 / (2 * x2);
  const double control_efficiency = c1 / (2 * c2);
  if (json_) {
    std::cout << report::json_text(nlohmann::json{{"points", points.size()},
                                                  {"bare_s", bare},
                                                  {"bare_ms_per_point", bare / n * 1e3},
                                                  {"bare_j2_s", bare2},
                                                  {"bare_parallel_efficiency_j2", machine},
                                                  {"sweep_j1_s", j1},
                                                  {"sweep_j2_s", j2},
                                                  {"overhead_ms_per_point", overhead_ms},
                                                  {"parallel_efficiency_j2", efficiency},
                                                  {"exec_j1_s", x1},
                                                  {"exec_j2_s", x2},
                                                  {"exec_overhead_ms_per_point", exec_overhead_ms},
                                                  {"exec_parallel_efficiency_j2", exec_efficiency},
                                                  {"control_j1_s", c1},
                                                  {"control_j2_s", c2},
                                                  {"control_parallel_efficiency_j2", control_efficiency},
                                                  {"cores", std::thread::hardware_concurrency()}});
    return 0;
  }
  std::cout << fmt::format("{} points of {}, {} cores\n", points.size(), experiment,
                           std::thread::hardware_concurrency());
  std::cout << fmt::format("bare `whatif run`, one after another : {:6.2f} s ({:.1f} ms per point)\n", bare,
                           bare / n * 1e3);
  std::cout << fmt::format("bare, two at a time                  : {:6.2f} s: parallel efficiency {:.0f} %\n",
                           bare2, 100 * machine);
  auto line = [&](const char* what, double t1, double t2, double over, double eff) {
    std::cout << fmt::format(
        "sweep {} -j 1 : {:6.2f} s: overhead {:+.1f} ms per point over bare (target <= 20)\n"
        "sweep {} -j 2 : {:6.2f} s: parallel efficiency {:.0f} % of ideal (target >= 90 %)\n",
        what, t1, over, what, t2, 100 * eff);
  };
  line("(forked points, default)", j1, j2, overhead_ms, efficiency);
  line("--exec (as under --mpi)  ", x1, x2, exec_overhead_ms, exec_efficiency);
  std::cout << fmt::format(
      "machine ceiling: as many bare forks (550 fresh pages, 15 ms of arithmetic each): -j 1 {:.2f} s, -j 2 "
      "{:.2f} s: parallel efficiency {:.0f} %\n",
      c1, c2, 100 * control_efficiency);
  return 0;
}

}  // namespace whatif::cli
