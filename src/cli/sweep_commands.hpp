// The `sweep` subcommands (plan, run, status, export) and `bench sweep`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace whatif::cli {

class SweepCommands {
 public:
  explicit SweepCommands(std::vector<std::string> simgrid_args) : simgrid_args_(std::move(simgrid_args)) {}
  void add_to(CLI::App& app, CLI::App& bench);
  std::optional<int> execute();

 private:
  int plan();
  int run();
  int status();
  int exportx();
  int bench();

  std::vector<std::string> simgrid_args_;
  CLI::App *plan_ = nullptr, *run_ = nullptr, *status_ = nullptr, *export_ = nullptr, *bench_ = nullptr;
  std::string file_, progress_ = "auto";
  std::optional<std::string> bench_sweep_, db_, out_, sweep_name_, keep_results_, timeout_, memory_;
  std::optional<std::uint64_t> limit_;
  int jobs_ = 0, show_ = 5, points_ = 200;
  bool json_ = false, csv_ = false, retry_failed_ = false, mpi_ = false, exec_ = false;
};

}  // namespace whatif::cli
