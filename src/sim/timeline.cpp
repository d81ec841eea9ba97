// Timeline: Chrome trace JSON writing with stable track numbering, ordering and rounding.
#include "sim/timeline.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string_view>

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

int Timeline::intern(std::string_view text) {
  auto [it, added] = ids_.try_emplace(std::string(text), static_cast<int>(strings_.size()));
  if (added) strings_.push_back(it->first);
  return it->second;
}

void Timeline::add(std::string_view track, std::string_view name, std::string_view category, double start,
                   double end, std::vector<TimelineArg> args) {
  if (!std::isfinite(start) || !std::isfinite(end) || end < start)
    throw std::invalid_argument(
        fmt::format("timeline event '{}' on '{}': bad interval [{}, {}] s", name, track, start, end));
  events_.push_back(Event{intern(track), intern(name), intern(category), start, end, std::move(args)});
}

std::string Timeline::to_chrome_json() const {
  auto dump = [](const nlohmann::json& value) {
    // Replace rather than throw on invalid UTF-8 in a name: a trace with one odd glyph beats no trace.
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  // Tracks numbered in order of first appearance; each distinct string escaped once.
  std::vector<int> tid(strings_.size(), 0);
  std::vector<int> track_order;
  for (const auto& event : events_)
    if (tid[event.track] == 0) {
      track_order.push_back(event.track);
      tid[event.track] = static_cast<int>(track_order.size());
    }
  std::vector<std::string> quoted;
  quoted.reserve(strings_.size());
  for (const auto& text : strings_)
    quoted.push_back(dump(text));

  // One event per line keeps large traces diffable without paying for full indentation. The metadata lines
  // go through nlohmann; the events are written directly, with nlohmann's key order and number format.
  std::string out = "{\"traceEvents\":[\n";
  out += dump({{"ph", "M"}, {"pid", kPid}, {"name", "process_name"}, {"args", {{"name", process_name_}}}});
  for (int track : track_order) {
    out += ",\n" + dump({{"ph", "M"},
                         {"pid", kPid},
                         {"tid", tid[track]},
                         {"name", "thread_name"},
                         {"args", {{"name", strings_[track]}}}});
    // Perfetto otherwise orders tracks by name; keep the order in which the simulation introduced them.
    out += ",\n" + dump({{"ph", "M"},
                         {"pid", kPid},
                         {"tid", tid[track]},
                         {"name", "thread_sort_index"},
                         {"args", {{"sort_index", tid[track]}}}});
  }

  std::vector<std::size_t> order(events_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return events_[a].start < events_[b].start; });
  for (std::size_t i : order) {
    const auto& event = events_[i];
    const double ts = to_trace_us(event.start);
    const double dur = std::max(0.0, to_trace_us(event.end) - ts);
    out += ",\n{";
    if (!event.args.empty()) {
      nlohmann::json args = nlohmann::json::object();
      for (const auto& arg : event.args)
        args[arg.key] = arg_value(arg.value);
      out += "\"args\":" + dump(args) + ',';
    }
    out +=
        fmt::format(R"("cat":{},"dur":{},"name":{},"ph":"X","pid":{},"tid":{},"ts":{}}})",
                    quoted[event.category], dump(dur), quoted[event.name], kPid, tid[event.track], dump(ts));
  }
  out += "\n]}\n";
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
