// Timeline: records what ran where and when, and writes it as a Chrome trace that Perfetto opens.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace whatif::sim {

using TimelineValue = std::variant<std::string, double, std::int64_t>;

struct TimelineArg {
  std::string key;
  TimelineValue value;
};

struct TimelineEvent {
  std::string track;     // one Perfetto track per distinct name: a host, a GPU, a rank
  std::string name;      // what ran ("allreduce", "fwd mb3")
  std::string category;  // groups events for filtering ("comm", "compute")
  double start = 0.0;    // seconds of simulated time
  double end = 0.0;
  std::vector<TimelineArg> args;
};

// Independent of SimGrid (times are plain seconds) so reports can build timelines too. Output is
// deterministic: tracks are numbered in order of first appearance, events are written sorted by start time
// (ties keep the order they were added), and times are rounded to the nanosecond.
class Timeline {
 public:
  explicit Timeline(std::string process_name = "whatif");

  // Throws std::invalid_argument when a time is not finite or end < start.
  void add(std::string track, std::string name, std::string category, double start, double end,
           std::vector<TimelineArg> args = {});

  const std::vector<TimelineEvent>& events() const { return events_; }
  std::size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }

  // {"traceEvents":[...]}: process and thread name metadata, then one "X" (complete) event per line, times in
  // microseconds; each track is a tid of pid 1.
  std::string to_chrome_json() const;
  // Writes to_chrome_json() to `path`; throws std::runtime_error when the file cannot be written.
  void write_chrome_json(const std::string& path) const;

 private:
  std::string process_name_;
  std::vector<TimelineEvent> events_;
};

}  // namespace whatif::sim
