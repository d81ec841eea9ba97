// `whatif calibrate run|fit|validate`: GPU model calibration with whatif's CUDA microbenchmarks.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace whatif::cli {

class CalibrateCommands {
 public:
  void add_to(CLI::App& app);
  std::optional<int> execute();

 private:
  int run();
  int fit();
  int validate();

  CLI::App *run_ = nullptr, *fit_ = nullptr, *validate_ = nullptr;
  std::string measurements_, base_, out_, gpu_;
  std::optional<std::string> name_, times_;
  int device_ = 0;
  bool quick_ = false, json_ = false;
};

}  // namespace whatif::cli
