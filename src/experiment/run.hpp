// Running one experiment end to end: load, validate, build, simulate, write the results folder.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace whatif::experiment {

struct RunOptions {
  std::string file;
  std::optional<std::string> out_dir;  // default: results/<experiment name>
  std::vector<std::string> sets;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> simgrid_args;
  // The experiment itself instead of reading `file` (which then only names it in messages; relative paths
  // in it resolve against the working directory).
  std::optional<std::string> text;
  bool write_results = true;  // false: only the summary and the table, no results folder (sweeps)
};

struct RunReport {
  std::string out_dir;     // empty when nothing was written
  nlohmann::json summary;  // what summary.json holds
  std::string text;        // the human table for stdout
  std::vector<std::string> warnings;
};

// Throws core::InputError for bad input and sim::SimulationError when the simulation fails.
RunReport run_experiment(const RunOptions& options);

// Loads and validates everything run_experiment would, without building or simulating: throws
// core::InputError for bad input. SimGrid-free, so a sweep can check its points up front.
void check_experiment(const RunOptions& options);

// Every workload kind, for messages and docs.
const std::vector<std::string>& workload_kinds();

}  // namespace whatif::experiment
