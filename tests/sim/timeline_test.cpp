// Timeline tests: Chrome trace structure, deterministic bytes, bad intervals, file output.
#include <gtest/gtest.h>

#include "sim/timeline.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace whatif::sim {
namespace {

Timeline sample() {
  Timeline timeline("run");
  timeline.add("gpu1", "allreduce", "comm", 2e-6, 5.5e-6, {{"bytes", std::int64_t{1024}}, {"algo", "ring"}});
  timeline.add("gpu0", "fwd", "compute", 0.0, 3e-6);
  timeline.add("gpu1", "fwd", "compute", 0.0, 2e-6, {{"flop", 1.5e9}});
  return timeline;
}

TEST(Timeline, WritesChromeTrace) {
  const auto json = nlohmann::json::parse(sample().to_chrome_json());
  const auto& events = json.at("traceEvents");
  // process name, then two metadata events per track (tracks numbered in order of appearance), then the
  // events sorted by start time (ties keep insertion order).
  ASSERT_EQ(events.size(), 1u + 2 * 2 + 3);
  EXPECT_EQ(events[0]["name"], "process_name");
  EXPECT_EQ(events[0]["args"]["name"], "run");
  EXPECT_EQ(events[1]["name"], "thread_name");
  EXPECT_EQ(events[1]["tid"], 1);
  EXPECT_EQ(events[1]["args"]["name"], "gpu1");
  EXPECT_EQ(events[3]["tid"], 2);
  EXPECT_EQ(events[3]["args"]["name"], "gpu0");

  const auto& fwd0 = events[5];
  EXPECT_EQ(fwd0["ph"], "X");
  EXPECT_EQ(fwd0["name"], "fwd");
  EXPECT_EQ(fwd0["tid"], 2);
  EXPECT_EQ(fwd0["cat"], "compute");
  EXPECT_DOUBLE_EQ(fwd0["ts"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(fwd0["dur"].get<double>(), 3.0);  // microseconds
  EXPECT_EQ(events[6]["tid"], 1);
  EXPECT_DOUBLE_EQ(events[6]["args"]["flop"].get<double>(), 1.5e9);
  const auto& comm = events[7];
  EXPECT_EQ(comm["name"], "allreduce");
  EXPECT_DOUBLE_EQ(comm["ts"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(comm["dur"].get<double>(), 3.5);
  EXPECT_EQ(comm["args"]["bytes"], 1024);
  EXPECT_EQ(comm["args"]["algo"], "ring");
}

TEST(Timeline, IsDeterministic) {
  const std::string first = sample().to_chrome_json();
  EXPECT_EQ(first, sample().to_chrome_json());
  // Float noise is rounded away: 0.1 + 0.2 s is written as 300000 us exactly.
  Timeline noisy;
  noisy.add("t", "e", "c", 0.1 + 0.2, 0.1 + 0.2 + 1e-9);
  EXPECT_NE(noisy.to_chrome_json().find("\"ts\":300000.0"), std::string::npos) << noisy.to_chrome_json();
  EXPECT_EQ(Timeline().to_chrome_json(),
            "{\"traceEvents\":[\n{\"args\":{\"name\":\"whatif\"},\"name\":\"process_name\",\"ph\":\"M\","
            "\"pid\":1}\n"
            "]}\n");
}

TEST(Timeline, RejectsBadIntervals) {
  Timeline timeline;
  EXPECT_THROW(timeline.add("t", "e", "c", 2.0, 1.0), std::invalid_argument);
  EXPECT_THROW(timeline.add("t", "e", "c", 0.0, std::nan("")), std::invalid_argument);
  EXPECT_TRUE(timeline.empty());
}

TEST(Timeline, WritesFile) {
  const auto path = std::filesystem::temp_directory_path() / "whatif-timeline-test.json";
  sample().write_chrome_json(path.string());
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), sample().to_chrome_json());
  std::filesystem::remove(path);
  EXPECT_THROW(sample().write_chrome_json("/nonexistent-dir/x/timeline.json"), std::runtime_error);
}

}  // namespace
}  // namespace whatif::sim
