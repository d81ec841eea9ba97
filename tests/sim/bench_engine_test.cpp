// Engine benchmark test: both phases run on one engine and report rates (speed targets belong to benches).
#include <gtest/gtest.h>

#include "sim/bench_engine.hpp"
#include "test_platform.hpp"

#include <stdexcept>

namespace whatif::sim::test {
namespace {

TEST(EngineBench, RunsBothPhasesOnOneEngine) {
  if (platform_built()) GTEST_SKIP() << "needs a process without a platform: run it alone (meson test does)";
  EXPECT_THROW(bench_engine(1), std::invalid_argument);
  const EngineBenchResult result = bench_engine(20001);
  EXPECT_EQ(result.activities, 20000);
  EXPECT_GT(result.raw_seconds, 0.0);
  EXPECT_GT(result.sim_seconds, 0.0);
  EXPECT_GT(result.raw_per_second, 0.0);
  EXPECT_GT(result.sim_per_second, 0.0);
  EXPECT_DOUBLE_EQ(result.ratio, result.sim_per_second / result.raw_per_second);
  // Its platform now exists, so a second call must refuse rather than abort inside SimGrid.
  EXPECT_THROW(bench_engine(100), std::logic_error);
}

}  // namespace
}  // namespace whatif::sim::test
