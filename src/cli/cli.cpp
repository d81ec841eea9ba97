// The whatif command line (CLI11): run, platform, bench, --version; maps failures to exit codes.
#include "cli/cli.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/calibrate_commands.hpp"
#include "cli/commands.hpp"
#include "cli/mpi_commands.hpp"
#include "cli/sweep_commands.hpp"
#include "core/diagnostics.hpp"
#include "report/json.hpp"
#include "sim/engine.hpp"

namespace whatif::cli {

namespace {

constexpr int kOk = 0;
constexpr int kSimulationFailure = 1;
constexpr int kBadInput = 2;

void print_version(bool json) {
  std::string compiler = WHATIF_COMPILER;
  if (json) {
    std::cout << report::json_text(nlohmann::json{
        {"whatif", WHATIF_VERSION}, {"simgrid", sim::simgrid_version()}, {"compiler", compiler}});
    return;
  }
  std::cout << fmt::format("whatif {}\nSimGrid {}\ncompiler {}\n", WHATIF_VERSION, sim::simgrid_version(),
                           compiler);
}

}  // namespace

std::string self_executable() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the whatif executable (/proc/self/exe)");
  return p.string();
}

int run_cli(int argc, char** argv) {
  // SimGrid's own options pass through untouched; CLI11 sees the rest.
  std::vector<std::string> simgrid_args;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--cfg=", 0) == 0 || a.rfind("--log=", 0) == 0)
      simgrid_args.push_back(a);
    else
      args.push_back(a);
  }
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector

  CLI::App app{"whatif: what-if performance simulation of GPU clusters and HPC systems, on SimGrid"};
  app.footer(
      "Examples:\n"
      "  whatif run workloads/collective-bench/allreduce-dgx-a100.yaml\n"
      "  whatif platform show platforms/dgx1-v100.yaml\n"
      "  whatif bench engine\n"
      "SimGrid options (--cfg=..., --log=...) are passed to the engine.\n"
      "Exit codes: 0 ok, 1 simulation failure, 2 bad input or usage.");
  bool version = false, version_json = false;
  app.add_flag("--version", version, "Print whatif, SimGrid and compiler versions");
  app.add_flag("--json", version_json, "With --version: print JSON");
  Commands commands(simgrid_args);
  commands.add_to(app);
  MpiCommands mpi_commands(simgrid_args);
  mpi_commands.add_to(app, *app.get_subcommand("validate"), *app.get_subcommand("bench"));
  SweepCommands sweep_commands(simgrid_args);
  sweep_commands.add_to(app, *app.get_subcommand("bench"));
  CalibrateCommands calibrate_commands;
  calibrate_commands.add_to(app);

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kBadInput;
  }
  try {
    if (version) {
      print_version(version_json);
      return kOk;
    }
    if (app.get_subcommands().empty()) {
      std::cerr << app.help();
      return kBadInput;
    }
    if (auto code = mpi_commands.execute()) return *code;
    if (auto code = sweep_commands.execute()) return *code;
    if (auto code = calibrate_commands.execute()) return *code;
    return commands.execute();
  } catch (const core::InputError& e) {
    std::cerr << e.what() << "\n";
    return kBadInput;
  } catch (const sim::SimulationError& e) {
    std::cerr << "error: simulation failed: " << e.what() << "\n";
    return kSimulationFailure;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return kSimulationFailure;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kSimulationFailure;
  }
}

}  // namespace whatif::cli
