// Timeline: records what ran where and when, and writes it as a Chrome trace that Perfetto opens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace whatif::sim {

using TimelineValue = std::variant<std::string, double, std::int64_t>;

struct TimelineArg {
  std::string key;
  TimelineValue value;
};

// Independent of SimGrid (times are plain seconds) so reports can build timelines too. Output is
// deterministic: tracks are numbered in order of first appearance, events are written sorted by start time
// (ties keep the order they were added), and times are rounded to the nanosecond. Track, name and category
// strings are stored once each: a large pipeline adds hundreds of thousands of events over a few dozen
// tracks and a few thousand names.
class Timeline {
 public:
  explicit Timeline(std::string process_name = "whatif");

  // `track`: one Perfetto track per distinct name (a host, a GPU, a rank); `name`: what ran ("allreduce",
  // "F3"); `category` groups events for filtering ("comm", "compute"); times in seconds of simulated time.
  // Throws std::invalid_argument when a time is not finite or end < start.
  void add(std::string_view track, std::string_view name, std::string_view category, double start, double end,
           std::vector<TimelineArg> args = {});

  std::size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }

  // {"traceEvents":[...]}: process and thread name metadata, then one "X" (complete) event per line, times in
  // microseconds; each track is a tid of pid 1.
  std::string to_chrome_json() const;
  // Writes to_chrome_json() to `path`; throws std::runtime_error when the file cannot be written.
  void write_chrome_json(const std::string& path) const;

 private:
  struct Event {
    int track, name, category;  // indices into strings_
    double start, end;
    std::vector<TimelineArg> args;
  };
  int intern(std::string_view text);

  std::string process_name_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, int> ids_;
  std::vector<Event> events_;
};

}  // namespace whatif::sim
