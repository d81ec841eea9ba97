// SimEngine: builds the argv SimGrid expects from whatif's defaults and the user's pass-through options.
#include "sim/engine.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/version.h>
#include <sstream>
#include <xbt/config.hpp>

#include "core/diagnostics.hpp"

namespace whatif::sim {

namespace {

const std::map<std::string, std::vector<std::string>, std::less<>> kModels = {
    {"network/model", {"LV08", "Constant", "SMPI", "IB", "CM02", "ns-3"}},
    {"cpu/model", {"Cas01"}},
    {"host/model", {"default", "compound", "ptask_L07"}},
    {"disk/model", {"S19"}},
};
const std::vector<std::string> kLogSettings = {"thres",    "threshold", "fmt",       "app",
                                               "appender", "add",       "additivity"};
const std::vector<std::string> kPriorities = {"trace",   "debug", "verbose", "info",
                                              "warning", "error", "critical"};

// SimGrid aborts the process on a malformed option; whatif answers bad input with a message and exit code 2.
void check_log_option(const std::string& arg) {
  std::string spec = arg.substr(6);  // after "--log="
  std::istringstream items(spec);
  std::string item;
  bool any = false;
  while (items >> item) {
    any = true;
    auto colon = item.find(':');
    auto dot = item.rfind('.', colon);
    std::string setting =
        dot == std::string::npos || colon == std::string::npos ? "" : item.substr(dot + 1, colon - dot - 1);
    if (colon == std::string::npos || dot == std::string::npos || dot == 0 ||
        std::find(kLogSettings.begin(), kLogSettings.end(), setting) == kLogSettings.end())
      throw core::InputError(
          fmt::format("'{}': expected --log=CATEGORY.thres:PRIORITY (or .fmt:, .app:, .add:)", arg));
    std::string value = item.substr(colon + 1);
    if ((setting == "thres" || setting == "threshold") &&
        std::find(kPriorities.begin(), kPriorities.end(), value) == kPriorities.end())
      throw core::InputError(fmt::format("'{}': unknown priority '{}'{} (one of: {})", arg, value,
                                         core::did_you_mean(value, kPriorities),
                                         fmt::join(kPriorities, ", ")));
  }
  if (!any) throw core::InputError(fmt::format("'{}': empty log setting", arg));
}

// Checks the option's syntax and model names before the engine exists; its name and value are checked
// against SimGrid's own configuration once it does (apply_config_option).
std::pair<std::string, std::string> split_config_option(const std::string& arg) {
  std::string spec = arg.substr(6);  // after "--cfg="
  auto colon = spec.find(':');
  if (colon == std::string::npos || colon == 0)
    throw core::InputError(fmt::format("'{}': expected --cfg=NAME:VALUE", arg));
  std::string name = spec.substr(0, colon), value = spec.substr(colon + 1);
  if (auto it = kModels.find(name);
      it != kModels.end() && std::find(it->second.begin(), it->second.end(), value) == it->second.end())
    throw core::InputError(fmt::format("'{}': unknown {} '{}'{} (one of: {})", arg, name, value,
                                       core::did_you_mean(value, it->second), fmt::join(it->second, ", ")));
  return {name, value};
}

void apply_config_option(const std::string& arg, const std::string& name, const std::string& value) {
  try {
    simgrid::config::is_default(name.c_str());
  } catch (const std::exception&) {
    throw core::InputError(
        fmt::format("'{}': SimGrid has no configuration option '{}' (list them with --help-cfg "
                    "on any SimGrid program)",
                    arg, name));
  }
  try {
    simgrid::s4u::Engine::set_config(name + ":" + value);
  } catch (const std::exception& e) {
    throw core::InputError(fmt::format("'{}': invalid value for '{}': {}", arg, name, e.what()));
  }
}

}  // namespace

SimEngine::SimEngine(const std::vector<std::string>& simgrid_args) {
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> config;
  std::vector<std::string> logs;
  for (const auto& arg : simgrid_args) {
    if (arg.rfind("--cfg=", 0) == 0) {
      config.push_back({arg, split_config_option(arg)});
    } else if (arg.rfind("--log=", 0) == 0) {
      check_log_option(arg);
      logs.push_back(arg);
    } else {
      throw core::InputError(fmt::format("'{}' is not a SimGrid option (--cfg=... or --log=...)", arg));
    }
  }
  argv_storage_ = {"whatif",
                   "--cfg=network/model:CM02",
                   "--cfg=network/crosstraffic:0",
                   "--cfg=network/TCP-gamma:0",
                   "--log=root.thres:warning",
                   "--log=xbt_cfg.thres:warning"};
  argv_storage_.insert(argv_storage_.end(), logs.begin(), logs.end());
  std::vector<char*> argv;
  for (auto& s : argv_storage_)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(argv_storage_.size());
  engine_ = new simgrid::s4u::Engine(&argc, argv.data());  // lives until process exit, as SimGrid requires
  for (const auto& [arg, option] : config)
    apply_config_option(arg, option.first, option.second);
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
