// The subcommands of whatif and the options each one takes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/yaml.hpp"

namespace CLI {
class App;
}

namespace whatif::experiment {
struct RunReport;
}

namespace whatif::cli {

// Helpers the subcommand files share.
core::Parameters parse_parameters(const std::vector<std::string>& sets);  // --set name=value
long process_status_kib(const char* field);  // a /proc/self/status figure ("VmHWM", "VmRSS") in KiB
void print_run_report(const experiment::RunReport& report, bool json);

class Commands {
 public:
  explicit Commands(std::vector<std::string> simgrid_args) : simgrid_args_(std::move(simgrid_args)) {}
  void add_to(CLI::App& app);
  // Runs the subcommand the user chose; returns the exit code.
  int execute();

 private:
  int run_experiment();
  int platform(const std::string& action);
  int bench_engine();
  int bench_platform();
  int training_schedule();
  int validate_training();
  int gpu_predict();
  int gpu_info();
  int validate_gpu();
  int bench_gpu();

  std::vector<std::string> simgrid_args_;
  CLI::App *run_ = nullptr, *check_ = nullptr, *show_ = nullptr, *dot_ = nullptr, *bench_engine_ = nullptr,
           *bench_platform_ = nullptr, *training_schedule_ = nullptr, *validate_training_ = nullptr,
           *gpu_predict_ = nullptr, *gpu_info_ = nullptr, *validate_gpu_ = nullptr, *bench_gpu_ = nullptr;
  std::string gpu_ = "TITAN-V";
  std::vector<int> kernels_;
  std::optional<std::string> reference_;
  std::string file_;
  std::optional<std::string> out_;
  std::vector<std::string> sets_;
  std::optional<std::uint64_t> seed_;
  bool json_ = false, no_files_ = false;
  long activities_ = 200000;
  long max_hosts_ = 64;
  std::string schedule_ = "1f1b", variant_ = "direct";
  int stages_ = 4, micro_batches_ = 8, chunks_ = 1;
  double backward_ratio_ = 2.0;
  bool timeline_ = false;
};

}  // namespace whatif::cli
