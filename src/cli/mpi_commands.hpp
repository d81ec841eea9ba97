// The `mpi` subcommands (info, text, replay) and `validate mpi`, `bench mpi`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace whatif::cli {

class MpiCommands {
 public:
  explicit MpiCommands(std::vector<std::string> simgrid_args) : simgrid_args_(std::move(simgrid_args)) {}
  // Adds `mpi` to `app`, and `mpi` entries to the existing `validate` and `bench` subcommands.
  void add_to(CLI::App& app, CLI::App& validate, CLI::App& bench);
  // The exit code when one of these subcommands was chosen.
  std::optional<int> execute();

 private:
  int info();
  int text();
  int replay();
  int validate();
  int bench();

  std::vector<std::string> simgrid_args_;
  CLI::App *info_ = nullptr, *text_ = nullptr, *replay_ = nullptr, *validate_ = nullptr, *bench_ = nullptr;
  std::string trace_, platform_, map_ = "block", library_ = "mpich", comms_;
  std::vector<std::string> sets_;
  std::optional<std::string> out_, matrix_csv_, heatmap_;
  std::optional<std::string> eager_, compute_host_speed_, tracing_overhead_, launch_overhead_, call_gap_;
  double compute_scale_ = 1;
  int rank_ = -1;
  std::uint64_t limit_ = 0, calls_ = 100'000'000;
  bool json_ = false;
};

}  // namespace whatif::cli
