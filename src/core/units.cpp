// Quantity parsing and formatting: the only place that knows unit spellings.
#include "core/units.hpp"

#include <fmt/format.h>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace whatif::core {
namespace {

struct Unit {
  std::string_view spelling;
  double factor;
};

// Decimal and binary prefixes; lookups are case-sensitive where SI makes a difference (m vs M).
constexpr std::array<Unit, 12> kPrefixes{{{"", 1.0},
                                          {"k", 1e3},
                                          {"K", 1e3},
                                          {"M", 1e6},
                                          {"G", 1e9},
                                          {"T", 1e12},
                                          {"P", 1e15},
                                          {"Ki", 1024.0},
                                          {"Mi", 1048576.0},
                                          {"Gi", 1073741824.0},
                                          {"Ti", 1099511627776.0},
                                          {"Pi", 1125899906842624.0}}};

double prefix_factor(std::string_view prefix, bool allow_binary) {
  for (const auto& p : kPrefixes) {
    if (p.spelling == prefix) {
      if (!allow_binary && prefix.size() == 2) return -1;
      return p.factor;
    }
  }
  return -1;
}

// Splits "25.5 GBps" into number and unit text.
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                             text[i] == '-' || text[i] == '+' ||
                             ((text[i] == 'e' || text[i] == 'E') && i > 0 && i + 1 < text.size() &&
                              (std::isdigit(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '-' ||
                               text[i + 1] == '+'))))
    ++i;
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ')
    unit.remove_prefix(1);
  return {number, unit};
}

bool ends_with(std::string_view s, std::string_view suffix, std::string_view* rest) {
  if (s.size() < suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
  *rest = s.substr(0, s.size() - suffix.size());
  return true;
}

// Returns the SI factor of `unit` for `dim`, or a negative value when the unit is not one of its spellings.
double unit_factor(std::string_view unit, Dimension dim) {
  std::string_view prefix;
  switch (dim) {
    case Dimension::bandwidth:
      for (auto suffix : {"Bps", "B/s"})
        if (ends_with(unit, suffix, &prefix)) return prefix_factor(prefix, true);
      for (auto suffix : {"bps", "bit/s", "b/s"})
        if (ends_with(unit, suffix, &prefix)) {
          double f = prefix_factor(prefix, true);
          return f < 0 ? f : f / 8.0;
        }
      return -1;
    case Dimension::time:
      if (unit == "s") return 1.0;
      if (unit == "ms") return 1e-3;
      if (unit == "us" || unit == "\xC2\xB5s") return 1e-6;
      if (unit == "ns") return 1e-9;
      if (unit == "ps") return 1e-12;
      if (unit == "min") return 60.0;
      if (unit == "h") return 3600.0;
      return -1;
    case Dimension::size:
      if (ends_with(unit, "B", &prefix)) return prefix_factor(prefix, true);
      if (ends_with(unit, "bit", &prefix) || ends_with(unit, "b", &prefix)) {
        double f = prefix_factor(prefix, true);
        return f < 0 ? f : f / 8.0;
      }
      return -1;
    case Dimension::frequency:
      if (ends_with(unit, "Hz", &prefix)) return prefix_factor(prefix, false);
      return -1;
    case Dimension::flop_rate:
      for (auto suffix : {"FLOPS", "flops", "Flops", "flop/s", "OPS", "ops", "op/s", "f"})
        if (ends_with(unit, suffix, &prefix)) return prefix_factor(prefix, false);
      return -1;
    case Dimension::ratio:
      if (unit == "%") return 0.01;
      if (unit.empty()) return 1.0;
      return -1;
    case Dimension::power:
      if (ends_with(unit, "W", &prefix)) return prefix_factor(prefix, false);
      return -1;
  }
  return -1;
}

}  // namespace

std::string_view dimension_name(Dimension dim) {
  switch (dim) {
    case Dimension::bandwidth:
      return "bandwidth";
    case Dimension::time:
      return "time";
    case Dimension::size:
      return "size";
    case Dimension::frequency:
      return "frequency";
    case Dimension::flop_rate:
      return "flop rate";
    case Dimension::ratio:
      return "ratio";
    case Dimension::power:
      return "power";
  }
  return "quantity";
}

std::string_view unit_examples(Dimension dim) {
  switch (dim) {
    case Dimension::bandwidth:
      return "e.g. 25GBps, 25GB/s, 200Gbps, 12.5GiBps";
    case Dimension::time:
      return "e.g. 1.5us, 700ns, 2ms, 1s";
    case Dimension::size:
      return "e.g. 80GiB, 40GB, 4KiB, 8B";
    case Dimension::frequency:
      return "e.g. 1410MHz, 1.41GHz";
    case Dimension::flop_rate:
      return "e.g. 312Tf, 19.5TFLOPS, 900Gflop/s";
    case Dimension::ratio:
      return "e.g. 50%, 0.5";
    case Dimension::power:
      return "e.g. 400W, 1.2kW";
  }
  return "";
}

double parse_quantity(std::string_view text, Dimension dim) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty()) throw UnitError(fmt::format("empty {} ({})", dimension_name(dim), unit_examples(dim)));
  auto [number, unit] = split_number(text);
  if (number.empty())
    throw UnitError(fmt::format("'{}' is not a {} ({})", text, dimension_name(dim), unit_examples(dim)));
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec == std::errc::result_out_of_range) throw UnitError(fmt::format("'{}' is out of range", text));
  if (ec != std::errc() || ptr != number.data() + number.size())
    throw UnitError(fmt::format("'{}' is not a {} ({})", text, dimension_name(dim), unit_examples(dim)));
  if (unit.empty() && dim != Dimension::ratio)
    throw UnitError(fmt::format("'{}' has no unit ({})", text, unit_examples(dim)));
  double factor = unit_factor(unit, dim);
  if (factor < 0)
    throw UnitError(fmt::format("unknown {} unit '{}' in '{}' ({})", dimension_name(dim), unit, text,
                                unit_examples(dim)));
  double si = value * factor;
  if (!std::isfinite(si)) throw UnitError(fmt::format("'{}' is out of range", text));
  return si;
}

std::string format_quantity(double value, Dimension dim) {
  struct Step {
    double factor;
    const char* name;
  };
  auto pick = [value](std::initializer_list<Step> steps) {
    const Step* chosen = steps.begin();
    for (const auto& s : steps)
      if (std::fabs(value) >= s.factor) chosen = &s;
    return fmt::format("{:.4g} {}", value / chosen->factor, chosen->name);
  };
  switch (dim) {
    case Dimension::bandwidth:
      return pick({{1, "B/s"}, {1e3, "kB/s"}, {1e6, "MB/s"}, {1e9, "GB/s"}, {1e12, "TB/s"}});
    case Dimension::time:
      if (value == 0) return "0 s";
      return pick({{1e-12, "ps"}, {1e-9, "ns"}, {1e-6, "us"}, {1e-3, "ms"}, {1, "s"}});
    case Dimension::size:
      return pick(
          {{1, "B"}, {1024.0, "KiB"}, {1048576.0, "MiB"}, {1073741824.0, "GiB"}, {1099511627776.0, "TiB"}});
    case Dimension::frequency:
      return pick({{1, "Hz"}, {1e3, "kHz"}, {1e6, "MHz"}, {1e9, "GHz"}});
    case Dimension::flop_rate:
      return pick({{1, "flop/s"}, {1e9, "Gflop/s"}, {1e12, "Tflop/s"}, {1e15, "Pflop/s"}});
    case Dimension::ratio:
      return fmt::format("{:.4g} %", value * 100);
    case Dimension::power:
      return pick({{1, "W"}, {1e3, "kW"}});
  }
  return fmt::format("{}", value);
}

}  // namespace whatif::core
