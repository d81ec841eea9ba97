// What a workload kind hands back to the experiment runner: metrics, tables and a timeline.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/table.hpp"
#include "sim/timeline.hpp"

namespace whatif::experiment {

struct WorkloadOutput {
  nlohmann::json metrics;             // goes into summary.json
  std::vector<report::Table> tables;  // the first one is printed; each is written as <file>.csv
  std::vector<std::string> table_files;
  sim::Timeline timeline;
};

}  // namespace whatif::experiment
