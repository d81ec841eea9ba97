// `whatif mpi info|text|replay`, `whatif validate mpi` and `whatif bench mpi`.
#include "cli/mpi_commands.hpp"

#include "cli/cli.hpp"
#include "cli/commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "experiment/run.hpp"
#include "mpi/functions.hpp"
#include "mpi/inspect.hpp"
#include "mpi/pilgrim.hpp"
#include "mpi/program.hpp"
#include "mpi/replay.hpp"
#include "mpi/signature.hpp"
#include "mpi/synthetic.hpp"
#include "report/json.hpp"
#include "sim/bench_engine.hpp"

namespace whatif::cli {

namespace fs = std::filesystem;

namespace {

// Writes an output file a command was asked for; `option` names it in the error.
void write_output(const std::string& path, const std::string& content, const char* option) {
  std::ofstream out(path);
  out << content;
  if (!out) throw core::InputError(fmt::format("{}: cannot write '{}'", option, path));
}

// Output of a shell command, or nullopt when it fails.
std::optional<std::string> command_output(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::string out;
  char buffer[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, n);
  return pclose(pipe) == 0 ? std::optional<std::string>(std::move(out)) : std::nullopt;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

void MpiCommands::add_to(CLI::App& app, CLI::App& validate, CLI::App& bench) {
  CLI::App* mpi = app.add_subcommand("mpi", "Pilgrim MPI traces: inspect, list and replay on a platform");
  mpi->require_subcommand(1);
  mpi->footer(
      "Examples:\n  whatif mpi info traces/pilgrim/lammps-lj-4r\n  whatif mpi text "
      "traces/pilgrim/netpipe-2r-mpich "
      "--rank 0 --limit 20\n  whatif mpi replay traces/pilgrim/netpipe-2r-mpich --platform "
      "platforms/traced-vm.yaml");
  info_ = mpi->add_subcommand(
      "info", "Ranks, format, timing mode, calls and bytes per function, communication matrix");
  info_->add_option("trace", trace_, "Trace folder (pilgrim-logs or its parent)")->required();
  info_->add_option("--matrix-csv", matrix_csv_, "Write the rank-to-rank point-to-point matrix as CSV");
  info_->add_option("--heatmap", heatmap_, "Write the matrix as an SVG heatmap");
  info_->add_option("--comms", comms_, "Members of split communicators (whatif-mpi-comms/1 file)");
  info_->add_flag("--json", json_, "Print JSON");
  text_ = mpi->add_subcommand("text",
                              "One line per call: rank, index, start, end, function and decoded arguments");
  text_->add_option("trace", trace_, "Trace folder")->required();
  text_->add_option("--rank", rank_, "Only this rank (default: all)");
  text_->add_option("--limit", limit_, "Calls per rank (default: all)");
  replay_ = mpi->add_subcommand("replay", "Replay the trace on a platform and predict its run time");
  replay_->add_option("trace", trace_, "Trace folder")->required();
  replay_->add_option("--platform", platform_, "Platform YAML file")->required();
  replay_->add_option("--set", sets_, "Set a platform parameter: name=value (repeatable)");
  replay_->add_option("--map", map_, "Rank placement: block | round-robin | FILE (one host per line)");
  replay_->add_option("--library", library_, "Collective algorithms and eager limit of: mpich | openmpi")
      ->check(CLI::IsMember({"mpich", "openmpi"}));
  replay_->add_option("--eager-threshold", eager_,
                      "Largest eager message (e.g. 64KiB; default: the library's)");
  replay_->add_option("--compute-scale", compute_scale_, "Multiply every compute phase by X");
  replay_->add_option(
      "--compute-host-speed", compute_host_speed_,
      "Per-core speed of the traced machine (e.g. 20Gf): phases scale by it / the replay core's");
  replay_->add_option("--tracing-overhead", tracing_overhead_, "Time Pilgrim added to each gap (e.g. 1us)");
  replay_->add_option("--launch-overhead", launch_overhead_,
                      "Job launch + MPI_Init + Finalize to add (e.g. 0.1s)");
  replay_->add_option("--call-gap", call_gap_, "Compute between calls for traces without timings");
  replay_->add_option("--comms", comms_, "Members of split communicators (whatif-mpi-comms/1 file)");
  replay_->add_option("-o,--out", out_, "Results folder (default: results/mpi-replay-<trace>)");
  replay_->add_flag("--json", json_, "Print summary.json");
  validate_ = validate.add_subcommand(
      "mpi", "Decode every shipped trace against pilgrim2text and replay it against its measured run time");
  validate_->add_option("traces", trace_, "Folder of trace folders (default traces/pilgrim)");
  validate_->add_flag("--json", json_, "Print JSON");
  bench_ = bench.add_subcommand("mpi", "Decoding speed and memory, and replay against raw SimGrid");
  bench_->add_option("--calls", calls_, "Calls of the synthetic trace decoded (default 1e8)")
      ->check(CLI::Range(std::uint64_t{4}, std::uint64_t{1} << 62, "at least 4"));
  bench_->add_flag("--json", json_, "Print JSON");
}

std::optional<int> MpiCommands::execute() {
  if (info_->parsed()) return info();
  if (text_->parsed()) return text();
  if (replay_->parsed()) return replay();
  if (validate_->parsed()) return validate();
  if (bench_->parsed()) return bench();
  return std::nullopt;
}

int MpiCommands::info() {
  mpi::PilgrimTrace trace = mpi::read_pilgrim_trace(trace_);
  mpi::TraceSummary s = mpi::summarize_trace(trace, comms_);
  if (matrix_csv_) write_output(*matrix_csv_, mpi::matrix_csv(s), "--matrix-csv");
  if (heatmap_) write_output(*heatmap_, mpi::matrix_svg(s), "--heatmap");
  std::cout << (json_ ? report::json_text(mpi::summary_json(trace, s)) : mpi::render_summary(trace, s));
  return 0;
}

int MpiCommands::text() {
  mpi::PilgrimTrace trace = mpi::read_pilgrim_trace(trace_);
  if (rank_ >= trace.ranks || (rank_ < 0 && text_->count("--rank") > 0))
    throw core::InputError(fmt::format("--rank {}: the trace has ranks 0..{}", rank_, trace.ranks - 1));
  std::ios::sync_with_stdio(false);
  mpi::write_call_listing(trace, rank_, limit_, std::cout);
  std::cout.flush();
  return 0;
}

constexpr const char* kReplayOptions = "<mpi replay options>";

int MpiCommands::replay() {
  // The same path as an experiment file with a `mpi-replay` workload, written from the options.
  auto absolute = [](const std::string& p) { return fs::absolute(p).lexically_normal().string(); };
  YAML::Node root;
  root["format"] = "whatif-experiment/1";
  root["name"] = "mpi-replay-" + fs::path(absolute(trace_)).filename().string();
  root["platform"]["file"] = absolute(platform_);
  for (const auto& [name, value] : parse_parameters(sets_))
    root["platform"]["parameters"][name] = value;
  YAML::Node w;
  w["kind"] = "mpi-replay";
  w["trace"] = absolute(trace_);
  w["map"] = (map_ == "block" || map_ == "round-robin") ? map_ : absolute(map_);
  w["library"] = library_;
  if (eager_) w["eager_threshold"] = *eager_;
  w["compute_scale"] = compute_scale_;
  if (compute_host_speed_) w["traced_core_speed"] = *compute_host_speed_;
  if (tracing_overhead_) w["tracing_overhead"] = *tracing_overhead_;
  if (launch_overhead_) w["launch_overhead"] = *launch_overhead_;
  if (call_gap_) w["call_gap"] = *call_gap_;
  if (!comms_.empty()) w["comms"] = absolute(comms_);
  root["workload"] = w;
  YAML::Emitter text;
  text << root;
  experiment::RunOptions options;
  options.file = kReplayOptions;
  options.text = std::string(text.c_str());
  options.out_dir = out_;
  options.simgrid_args = simgrid_args_;
  try {
    print_run_report(experiment::run_experiment(options), json_);
  } catch (const core::InputError& e) {
    // A problem in a value given on the command line names its option, not a line of the generated
    // experiment.
    std::vector<core::Diagnostic> items = e.diagnostics();
    if (items.empty()) throw;
    for (auto& d : items) {
      if (d.location.file != kReplayOptions) continue;
      const std::map<std::string, std::string> options_of = {{"traced_core_speed", "--compute-host-speed"},
                                                             {"file", "--platform"}};
      auto known = options_of.find(d.field);
      std::string option = known != options_of.end() ? known->second : "--" + d.field;
      std::replace(option.begin(), option.end(), '_', '-');
      d.location = core::Location{option, 0, 0};
      d.entity.clear();
      d.name.clear();
      d.field.clear();
    }
    throw core::InputError(std::move(items));
  }
  return 0;
}

int MpiCommands::validate() {
  fs::path root = trace_.empty() ? fs::path("traces/pilgrim") : fs::path(trace_);
  if (!fs::is_directory(root))
    throw core::InputError(fmt::format("'{}' is not a folder of traces", root.string()));
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(root))
    if (fs::exists(e.path() / "pilgrim-logs")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  nlohmann::json results = nlohmann::json::array();
  const std::string self = self_executable();
  bool all_good = true;
  for (const auto& dir : cases) {
    mpi::PilgrimTrace trace = mpi::read_pilgrim_trace(dir);
    nlohmann::json r{{"case", dir.filename().string()}, {"ranks", trace.ranks}};
    // Decoded function sequence of every rank against pilgrim2text's (from the shipped archive).
    std::uint64_t compared = 0, mismatches = 0;
    std::string first_mismatch;
    const std::vector<mpi::Signature> sigs = mpi::decode_signatures(trace);
    for (int rank = 0; rank < trace.ranks; ++rank) {
      auto expected = command_output(fmt::format("tar -xJOf {} pilgrim2text/{}.txt",
                                                 quote((dir / "pilgrim2text-output.tar.xz").string()), rank));
      if (!expected) {
        first_mismatch = "no pilgrim2text-output.tar.xz to compare with";
        ++mismatches;
        break;
      }
      mpi::CallStream calls(trace, rank);
      int terminal = 0;
      std::size_t pos = 0;
      const std::string& text = *expected;
      while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::string_view line(text.data() + pos, eol - pos);
        pos = eol + 1;
        auto name_at = line.rfind(' ');
        if (name_at == std::string_view::npos) continue;
        std::string_view name = line.substr(name_at + 1);
        if (name.ends_with("()")) name.remove_suffix(2);
        ++compared;
        std::string_view ours = calls.next(terminal)
                                    ? mpi::function_name(sigs[static_cast<std::size_t>(terminal)].function)
                                    : std::string_view("<end of trace>");
        if (ours != name) {
          if (mismatches++ == 0)
            first_mismatch = fmt::format("rank {} call {}: whatif {} vs pilgrim2text {}", rank,
                                         calls.position(), ours, name);
        }
      }
      if (calls.next(terminal)) {
        ++mismatches;
        if (first_mismatch.empty()) first_mismatch = fmt::format("rank {}: whatif has more calls", rank);
      }
    }
    // funcs.dat's counts against the decoded streams.
    std::vector<std::uint64_t> counted(trace.signatures.size(), 0);
    for (int rank = 0; rank < trace.ranks; ++rank) {
      mpi::CallStream calls(trace, rank);
      int terminal = 0;
      while (calls.next(terminal))
        ++counted[static_cast<std::size_t>(terminal)];
    }
    std::uint64_t count_mismatches = 0;
    for (std::size_t t = 0; t < counted.size(); ++t)
      if (counted[t] != trace.signatures[t].count) ++count_mismatches;
    r["calls_compared"] = compared;
    r["sequence_mismatches"] = mismatches;
    if (!first_mismatch.empty()) r["first_mismatch"] = first_mismatch;
    r["signature_count_mismatches"] = count_mismatches;
    all_good = all_good && mismatches == 0 && count_mismatches == 0;
    // The replay prediction, when an experiment for this case ships in workloads/mpi/.
    fs::path experiment = fs::path("workloads/mpi") / (dir.filename().string() + ".yaml");
    if (fs::exists(experiment)) {
      std::string out = (fs::temp_directory_path() /
                         fmt::format("whatif-validate-mpi-{}-{}", ::getpid(), dir.filename().string()))
                            .string();
      auto json = command_output(fmt::format("{} run {} -o {} --json 2>/dev/null", quote(self),
                                             quote(experiment.string()), quote(out)));
      fs::remove_all(out);
      if (!json) {
        r["replay"] = "failed";
        all_good = false;
      } else {
        auto summary = nlohmann::json::parse(*json);
        auto ref = summary["reference"]["metrics"]["run_time_s"];
        r["predicted_s"] = ref["predicted"];
        r["measured_s"] = ref["reference"];
        r["error"] = ref["error"];
        bool oversubscribed = trace.ranks > 2;  // the traced machine had 2 cores
        r["judged"] = !oversubscribed;
        if (!oversubscribed && std::abs(ref["error"].get<double>()) > 0.10) all_good = false;
      }
    }
    results.push_back(r);
  }
  if (json_) {
    std::cout << report::json_text(nlohmann::json{{"cases", results}, {"pass", all_good}});
  } else {
    std::cout << fmt::format("{:<22} {:>5} {:>10} {:>10} {:>9} {:>11} {:>11} {:>8}\n", "case", "ranks",
                             "calls", "seq diffs", "count diffs", "predicted", "measured", "error");
    for (const auto& r : results) {
      std::string pred = "-", meas = "-", err = "-";
      if (r.contains("predicted_s")) {
        pred = fmt::format("{:.3f} s", r["predicted_s"].get<double>());
        meas = fmt::format("{:.3f} s", r["measured_s"].get<double>());
        err = fmt::format("{:+.1f} %{}", 100 * r["error"].get<double>(), r["judged"].get<bool>() ? "" : " *");
      }
      std::cout << fmt::format("{:<22} {:>5} {:>10} {:>10} {:>9} {:>11} {:>11} {:>8}\n",
                               r["case"].get<std::string>(), r["ranks"].get<int>(),
                               r["calls_compared"].get<std::uint64_t>(),
                               r["sequence_mismatches"].get<std::uint64_t>(),
                               r["signature_count_mismatches"].get<std::uint64_t>(), pred, meas, err);
      if (r.contains("first_mismatch"))
        std::cout << "  first difference: " << r["first_mismatch"].get<std::string>() << "\n";
    }
    std::cout << "* more ranks than the traced machine's 2 cores: its wall time was time-shared, not judged\n"
              << (all_good ? "all checks pass\n" : "SOME CHECKS FAIL\n");
  }
  return all_good ? 0 : 1;
}

int MpiCommands::bench() {
  fs::path dir = fs::temp_directory_path() / fmt::format("whatif-bench-mpi-{}", ::getpid());
  struct Cleanup {
    fs::path p;
    ~Cleanup() { fs::remove_all(p); }
  } cleanup{dir};
  // 1. Decoding a synthetic trace of `calls_` calls (one rule repeated): calls/s and memory.
  const std::uint64_t round_trips = std::max<std::uint64_t>(1, calls_ / 4);
  mpi::write_pingpong_trace(dir / "big", round_trips, 8, mpi::TimingMode::aggregated);
  const long rss_before = process_status_kib("VmRSS");
  auto t0 = std::chrono::steady_clock::now();
  mpi::PilgrimTrace big = mpi::read_pilgrim_trace(dir / "big");
  std::uint64_t decoded = 0, checksum = 0;
  for (int r = 0; r < big.ranks; ++r) {
    mpi::CallStream calls(big, r);
    int terminal = 0;
    while (calls.next(terminal)) {
      ++decoded;
      checksum += static_cast<std::uint64_t>(terminal);
    }
  }
  double decode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long rss_after = process_status_kib("VmRSS");
  // 2. The same with timings, on a LOSSLESS trace of 10^6 calls (starts and ends streamed from disk).
  mpi::write_pingpong_trace(dir / "timed", 250'000, 8, mpi::TimingMode::lossless, 1e-6);
  t0 = std::chrono::steady_clock::now();
  mpi::PilgrimTrace timed = mpi::read_pilgrim_trace(dir / "timed");
  std::uint64_t timed_calls = 0;
  double sum = 0;
  for (int r = 0; r < timed.ranks; ++r) {
    mpi::CallStream calls(timed, r);
    mpi::TimingStream times(timed, r);
    int terminal = 0;
    mpi::CallTime t;
    while (calls.next(terminal) && times.next(t)) {
      ++timed_calls;
      sum += t.end - t.start;
    }
  }
  double timed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // 3. Replay of a 1-byte ping-pong trace against SimGrid's raw ping-pong, in one engine.
  const long messages = 200'000;
  mpi::write_pingpong_trace(dir / "replay", messages / 2, 1, mpi::TimingMode::aggregated);
  mpi::PilgrimTrace replay_trace = mpi::read_pilgrim_trace(dir / "replay");
  mpi::ReplayOptions options;
  options.timeline_limit = 0;
  sim::BenchPhase phase{"mpi replay", [&](const std::vector<std::string>& hosts) {
                          mpi::ReplayReport rep = mpi::replay_on_hosts(replay_trace, options, hosts);
                          return static_cast<long>(rep.messages);
                        }};
  sim::EngineBenchResult engine = sim::bench_engine(messages, {phase});
  const sim::BenchPhaseResult& p = engine.phases.front();
  nlohmann::json j{{"synthetic_calls", decoded},
                   {"decode_seconds", decode_s},
                   {"decode_calls_per_second", static_cast<double>(decoded) / decode_s},
                   {"decode_rss_growth_kib", rss_after - rss_before},
                   {"peak_rss_kib", process_status_kib("VmHWM")},
                   {"timed_calls", timed_calls},
                   {"timed_calls_per_second", static_cast<double>(timed_calls) / timed_s},
                   {"replay_messages", p.activities},
                   {"replay_activities_per_second", p.per_second},
                   {"raw_simgrid_activities_per_second", engine.raw_per_second},
                   {"replay_ratio_to_raw", p.ratio},
                   {"checksum", checksum + (sum > 0 ? 1 : 0)}};
  if (json_) {
    std::cout << report::json_text(j);
  } else {
    std::cout << fmt::format(
        "decode (grammar stream, no timings): {} calls in {:.2f} s = {:.1f} M calls/s, RSS +{} KiB\n"
        "decode with LOSSLESS timings       : {} calls = {:.1f} M calls/s\n"
        "replay 1-byte ping-pong            : {:.0f} messages/s vs raw SimGrid {:.0f}/s, ratio {:.2f} "
        "(target >= 0.8)\n"
        "peak RSS {} KiB\n",
        decoded, decode_s, static_cast<double>(decoded) / decode_s / 1e6, rss_after - rss_before, timed_calls,
        static_cast<double>(timed_calls) / timed_s / 1e6, p.per_second, engine.raw_per_second, p.ratio,
        process_status_kib("VmHWM"));
  }
  return 0;
}

}  // namespace whatif::cli
