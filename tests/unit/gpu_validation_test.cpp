// The kernel model against PPT-GPU's own reports on the shipped Rodinia BFS traces (TITAN V as PPT-GPU
// describes it): the counts both models define the same way must be equal, and the hit rates equal within
// 1 percentage point once whatif's reuse profiles are averaged over SMs and go through PPT-GPU's formula.
#include <gtest/gtest.h>

#include <cmath>

#include "gpu/model.hpp"
#include "gpu/report.hpp"

using namespace whatif::gpu;

namespace {
constexpr const char* kBfs = "traces/ppt-gpu/rodinia-bfs";
}  // namespace

TEST(GpuValidation, BfsCountsAndHitRatesMatchPptGpu) {
  const AppPrediction p =
      predict_application(read_trace_dir(kBfs), load_gpu_hardware("models", "TITAN-V-PPT-GPU"));
  const auto reports = read_ppt_reports(std::string(kBfs) + "/reference-outputs");
  ASSERT_EQ(reports.size(), 8u);  // PPT-GPU's outputs exist for kernels 1-8
  for (const auto& [id, r] : reports) {
    const KernelPrediction& k = p.kernels.at(static_cast<std::size_t>(id - 1));
    ASSERT_EQ(k.id, id);
    const MemoryStats& m = k.memory;
    const std::string what = "kernel " + std::to_string(id);
    EXPECT_EQ(k.occupancy.limit_blocks, r.at("Thread block Limit SM")) << what;
    EXPECT_EQ(k.occupancy.limit_registers, r.at("Thread block limit registers")) << what;
    EXPECT_EQ(k.occupancy.limit_shared, r.at("Thread block limit shared memory")) << what;
    EXPECT_EQ(k.occupancy.limit_warps, r.at("Thread block limit warps")) << what;
    EXPECT_EQ(m.read_requests, r.at("GMEM read requests")) << what;
    EXPECT_EQ(m.write_requests, r.at("GMEM write requests")) << what;
    EXPECT_EQ(m.read_transactions, r.at("GMEM read transactions")) << what;
    EXPECT_EQ(m.write_transactions, r.at("GMEM write transactions")) << what;
    EXPECT_EQ(k.warp_instructions, r.at("Warp instructions executed")) << what;
    // BFS's L1 reuse distances are short against 1024 lines, where the two formulas agree: averaging the SMs'
    // rates as PPT-GPU does is the whole difference from whatif's hits / accesses.
    EXPECT_NEAR(100 * m.sm_mean_l1_hit, r.at("unified L1 cache hit rate"), 1.0) << what;
    EXPECT_NEAR(100 * m.ppt_l1_hit, r.at("unified L1 cache hit rate"), 1.0) << what;
    EXPECT_NEAR(100 * m.ppt_l1_read_hit,
                r.at("unified L1 cache hit rate for read transactions (global memory accesses)"), 1.0)
        << what;
    // L2: PPT-GPU's reuse distances are so short against 4.5 MB that both formulas give the same rate.
    EXPECT_NEAR(100 * m.l2_hit, r.at("L2 cache hit rate"), 1.0) << what;
    EXPECT_NEAR(100 * m.ppt_l2_hit, r.at("L2 cache hit rate"), 1.0) << what;
  }
  // The comparison report counts the same way: every count equal.
  const auto c = compare_with_ppt(p, reports);
  int exact = 0;
  for (const auto& row : c["rows"])
    if (row["kind"] == "exact") {
      ++exact;
      EXPECT_EQ(row["difference"].get<double>(), 0.0) << row.dump();
    }
  EXPECT_EQ(exact, 8 * 10);
}
