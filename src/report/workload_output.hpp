// What a workload kind hands back to the experiment runner: metrics, tables and a timeline.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/table.hpp"
#include "sim/timeline.hpp"

namespace whatif::report {

struct WorkloadOutput {
  nlohmann::json metrics;     // goes into summary.json
  std::vector<Table> tables;  // the first one is printed; each is written as <file>.csv
  std::vector<std::string> table_files;
  std::vector<std::string> summary_lines;  // printed after the table
  std::vector<std::string> warnings;       // printed on stderr and kept in summary.json
  sim::Timeline timeline;
};

}  // namespace whatif::report
