// Terminal tables and CSV files from the same rows.
#pragma once

#include <string>
#include <vector>

namespace whatif::report {

struct Table {
  std::string title;
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right_align;  // per column; numbers read best right-aligned

  // Aligned columns for a terminal.
  std::string render() const;
  // RFC 4180 CSV (quotes fields that need it).
  std::string to_csv() const;
};

}  // namespace whatif::report
