// Workload kind `training`: a transformer, its 3D-parallel layout and pipeline schedule, read from an
// experiment.
#pragma once

#include <map>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "core/yaml.hpp"
#include "platform/spec.hpp"
#include "training/layout.hpp"
#include "training/model.hpp"
#include "training/schedule.hpp"

namespace whatif::training {

struct TrainingSpec {
  TransformerConfig model;
  ParallelLayout layout;
  ScheduleKind schedule = ScheduleKind::one_f_one_b;
  ChimeraVariant variant = ChimeraVariant::direct;
  bool scatter_gather = true;  // Megatron's pipeline p2p optimisation: b*s*h/t per link, then an allgather
  // Symmetric: one replica, one tensor rank standing for its group. Full: every GPU an actor; with `fused`,
  // the collectives of one step go out as one ring exchange (see training_runner.cpp), else message by
  // message.
  bool full = false;
  bool fused = true;
  std::vector<std::string> gpu_hosts;  // every GPU of the platform, node-major: rank placement indexes it
  std::string gpu_model;               // catalog name of those GPUs
  int gpus_per_node = 0;
  std::vector<std::string> warnings;
  // Ops priced by a kernel trace instead of the roofline: op name -> seconds per run, and where from.
  struct OpCost {
    double seconds = 0;
    std::string source;
  };
  std::map<std::string, OpCost> op_costs;
};

// Reads and validates the workload mapping against the platform; problems go to scope.diag.
TrainingSpec parse_training(const YAML::Node& workload, const core::Scope& scope,
                            const platform::PlatformSpec& platform);

}  // namespace whatif::training
