// Rendering of report tables as aligned text and as CSV.
#include "report/table.hpp"

#include <fmt/format.h>
#include <algorithm>

namespace whatif::report {

std::string Table::render() const {
  std::vector<size_t> width(headers.size(), 0);
  for (size_t c = 0; c < headers.size(); ++c)
    width[c] = headers[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      bool right = c < right_align.size() && right_align[c];
      if (c > 0) out += "  ";
      out += right ? fmt::format("{:>{}}", cell, width[c]) : fmt::format("{:<{}}", cell, width[c]);
    }
    while (!out.empty() && out.back() == ' ')
      out.pop_back();
    return out + "\n";
  };
  std::string out;
  if (!title.empty()) out += title + "\n";
  out += line(headers);
  size_t total = 0;
  for (size_t w : width)
    total += w;
  out += std::string(total + 2 * (width.empty() ? 0 : width.size() - 1), '-') + "\n";
  for (const auto& row : rows)
    out += line(row);
  return out;
}

std::string Table::to_csv() const {
  auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s)
      q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c)
      out += (c ? "," : "") + field(cells[c]);
    out += "\n";
  };
  line(headers);
  for (const auto& row : rows)
    line(row);
  return out;
}

}  // namespace whatif::report
