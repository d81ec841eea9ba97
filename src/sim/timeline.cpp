// Timeline: Chrome trace JSON writing with stable track numbering, ordering and rounding.
#include "sim/timeline.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <stdexcept>

namespace whatif::sim {

namespace {

// Microseconds rounded to the nanosecond: keeps float noise (1.0000000000000002) out of the file.
double to_trace_us(double seconds) {
  return std::round(seconds * 1e9) / 1e3;
}

nlohmann::json arg_value(const TimelineValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

constexpr int kPid = 1;

}  // namespace

Timeline::Timeline(std::string process_name) : process_name_(std::move(process_name)) {}

void Timeline::add(std::string track, std::string name, std::string category, double start, double end,
                   std::vector<TimelineArg> args) {
  if (!std::isfinite(start) || !std::isfinite(end) || end < start)
    throw std::invalid_argument(
        fmt::format("timeline event '{}' on '{}': bad interval [{}, {}] s", name, track, start, end));
  events_.push_back(
      TimelineEvent{std::move(track), std::move(name), std::move(category), start, end, std::move(args)});
}

std::string Timeline::to_chrome_json() const {
  std::map<std::string, int, std::less<>> tids;
  std::vector<const std::string*> track_order;
  for (const auto& event : events_) {
    if (tids.emplace(event.track, static_cast<int>(tids.size()) + 1).second)
      track_order.push_back(&event.track);
  }

  std::vector<nlohmann::json> lines;
  lines.reserve(events_.size() + 2 * track_order.size() + 1);
  lines.push_back(
      {{"ph", "M"}, {"pid", kPid}, {"name", "process_name"}, {"args", {{"name", process_name_}}}});
  for (const auto* track : track_order) {
    const int tid = tids.find(*track)->second;
    lines.push_back(
        {{"ph", "M"}, {"pid", kPid}, {"tid", tid}, {"name", "thread_name"}, {"args", {{"name", *track}}}});
    // Perfetto otherwise orders tracks by name; keep the order in which the simulation introduced them.
    lines.push_back({{"ph", "M"},
                     {"pid", kPid},
                     {"tid", tid},
                     {"name", "thread_sort_index"},
                     {"args", {{"sort_index", tid}}}});
  }

  std::vector<std::size_t> order(events_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return events_[a].start < events_[b].start; });
  for (std::size_t i : order) {
    const auto& event = events_[i];
    const double ts = to_trace_us(event.start);
    nlohmann::json line{{"ph", "X"},
                        {"pid", kPid},
                        {"tid", tids.find(event.track)->second},
                        {"name", event.name},
                        {"cat", event.category},
                        {"ts", ts},
                        {"dur", std::max(0.0, to_trace_us(event.end) - ts)}};
    if (!event.args.empty()) {
      nlohmann::json args = nlohmann::json::object();
      for (const auto& arg : event.args)
        args[arg.key] = arg_value(arg.value);
      line["args"] = std::move(args);
    }
    lines.push_back(std::move(line));
  }

  // One event per line keeps large traces diffable without paying for full indentation.
  std::string out = "{\"traceEvents\":[\n";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // Replace rather than throw on invalid UTF-8 in a name: a trace with one odd glyph beats no trace.
    out += lines[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += i + 1 < lines.size() ? ",\n" : "\n";
  }
  out += "]}\n";
  return out;
}

void Timeline::write_chrome_json(const std::string& path) const {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw std::runtime_error(fmt::format("cannot open '{}' for writing", path));
  file << to_chrome_json();
  file.close();
  if (!file) throw std::runtime_error(fmt::format("cannot write '{}'", path));
}

}  // namespace whatif::sim
