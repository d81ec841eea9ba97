// SimEngine: builds the argv SimGrid expects from whatif's defaults and the user's pass-through options.
#include "sim/engine.hpp"

#include <fmt/format.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/version.h>

namespace whatif::sim {

SimEngine::SimEngine(const std::vector<std::string>& simgrid_args) {
  argv_storage_ = {"whatif",
                   "--cfg=network/model:CM02",
                   "--cfg=network/crosstraffic:0",
                   "--cfg=network/TCP-gamma:0",
                   "--log=root.thres:warning",
                   "--log=xbt_cfg.thres:warning"};
  argv_storage_.insert(argv_storage_.end(), simgrid_args.begin(), simgrid_args.end());
  std::vector<char*> argv;
  for (auto& s : argv_storage_)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(argv_storage_.size());
  engine_ = new simgrid::s4u::Engine(&argc, argv.data());  // lives until process exit, as SimGrid requires
}

void SimEngine::run() {
  engine_->run();
  size_t blocked = engine_->get_actor_count();
  if (blocked > 0)
    throw SimulationError(fmt::format("deadlock: {} actor(s) still blocked at simulated time {:.9g} s",
                                      blocked, engine_->get_clock()));
}

double SimEngine::now() const {
  return engine_->get_clock();
}

std::string simgrid_version() {
  int major = 0, minor = 0, patch = 0;
  sg_version_get(&major, &minor, &patch);
  return patch > 0 ? fmt::format("{}.{}.{}", major, minor, patch) : fmt::format("{}.{}", major, minor);
}

}  // namespace whatif::sim
