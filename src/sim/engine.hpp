// The SimGrid engine of a whatif process: one per process, created with whatif's default configuration.
#pragma once

#include <string>
#include <vector>

namespace simgrid::s4u {
class Engine;
}

namespace whatif::sim {

// Creates the process's only SimGrid engine. Defaults: CM02 network model without TCP window or cross-traffic
// (links behave as alpha-beta pipes, which is what GPU interconnect datasheets describe), quiet logs.
// `simgrid_args` are the user's --cfg=... and --log=... options, applied after the defaults so they win.
class SimEngine {
 public:
  explicit SimEngine(const std::vector<std::string>& simgrid_args = {});
  SimEngine(const SimEngine&) = delete;
  SimEngine& operator=(const SimEngine&) = delete;

  simgrid::s4u::Engine& engine() { return *engine_; }
  // Runs every actor to completion. Throws SimulationError when actors remain blocked (deadlock).
  void run();
  double now() const;

 private:
  std::vector<std::string> argv_storage_;
  simgrid::s4u::Engine* engine_ = nullptr;
};

class SimulationError : public std::exception {
 public:
  explicit SimulationError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// The SimGrid library version as "3.32".
std::string simgrid_version();

}  // namespace whatif::sim
