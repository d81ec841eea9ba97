// One results folder per run: summary.json, CSV tables, timeline.json and run.yaml.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "report/table.hpp"

namespace whatif::report {

class ResultsFolder {
 public:
  // Creates `dir` (and parents). Throws InputError when it cannot.
  explicit ResultsFolder(std::string dir);
  const std::string& dir() const { return dir_; }
  void write_text(const std::string& name, const std::string& content) const;
  void write_json(const std::string& name, const nlohmann::json& value) const;
  void write_csv(const std::string& name, const Table& table) const;

 private:
  std::string dir_;
};

}  // namespace whatif::report
