// Experiment files (format whatif-experiment/1): loading, --set overrides, and the workload interface.
#pragma once

#include <yaml-cpp/yaml.h>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/yaml.hpp"
#include "platform/spec.hpp"

namespace whatif::experiment {

// A figure measured elsewhere (a paper, a real run) for one of the workload's metrics: the run reports its
// prediction next to it and the error.
struct ReferenceMetric {
  std::string metric;
  double value = 0;
  core::Location where;
};

struct Experiment {
  std::string file;
  std::string name, description;
  std::string platform_file;  // as resolved against the experiment's folder
  core::Parameters platform_parameters;
  std::uint64_t seed = 1;
  std::string kind;
  YAML::Node root;               // the whole input after --set and --seed: what run.yaml records
  YAML::Node workload;           // the workload mapping
  std::string reference_source;  // where the reference figures come from
  std::vector<ReferenceMetric> reference;
};

// Applies `path.to.key=value` to a YAML tree; throws InputError naming the option when it cannot.
void apply_set(YAML::Node& root, const std::string& assignment);

// Loads an experiment file, applies --set assignments and the --seed override, and checks the common fields.
// `text`, when given, is the file's content (an experiment made by a command).
Experiment load_experiment(const std::string& file, const std::vector<std::string>& sets,
                           std::optional<std::uint64_t> seed,
                           const std::optional<std::string>& text = std::nullopt);

}  // namespace whatif::experiment
