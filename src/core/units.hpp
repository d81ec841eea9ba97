// One parser for every physical quantity written in whatif's input files ("25GBps", "1.5us", "80GiB").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace whatif::core {

enum class Dimension { bandwidth, time, size, frequency, flop_rate, ratio, power };

std::string_view dimension_name(Dimension dim);

// Parses `text` as a quantity of `dim` and returns it in SI units (B/s, s, B, Hz, flop/s, fraction, W).
// Throws UnitError with a message naming the problem (no position: callers add it).
double parse_quantity(std::string_view text, Dimension dim);

// Examples of accepted spellings for a dimension, for error messages and docs.
std::string_view unit_examples(Dimension dim);

// Formats a SI value with a readable unit ("25 GB/s", "1.50 us", "80 GiB").
std::string format_quantity(double value, Dimension dim);

class UnitError : public std::exception {
 public:
  explicit UnitError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

}  // namespace whatif::core
