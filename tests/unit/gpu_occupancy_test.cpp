// Unit tests of theoretical occupancy against hand-worked CUDA Occupancy Calculator arithmetic.
#include <gtest/gtest.h>

#include <stdexcept>

#include "gpu/occupancy.hpp"

using whatif::gpu::compute_occupancy;
using whatif::gpu::ComputeLimits;
using whatif::gpu::Occupancy;

namespace {

// Compute-capability limits as the CUDA Programming Guide's table gives them (shared memory: the largest
// carve-out per SM, and the opt-in maximum per block).
ComputeLimits limits(int max_threads_sm, int max_blocks_sm, int registers_sm, long shared_sm,
                     long max_shared_block, int shared_unit) {
  ComputeLimits l;
  l.warp_size = 32;
  l.max_threads_block = 1024;
  l.max_threads_sm = max_threads_sm;
  l.max_blocks_sm = max_blocks_sm;
  l.max_warps_sm = max_threads_sm / 32;
  l.registers_sm = registers_sm;
  l.max_registers_block = 65536;
  l.max_registers_thread = 255;
  l.register_unit = 256;
  l.shared_unit = shared_unit;
  l.shared_sm = shared_sm;
  l.max_shared_block = max_shared_block;
  return l;
}

const ComputeLimits kCc37 = limits(2048, 16, 131072, 112 * 1024, 48 * 1024, 256);  // K80
const ComputeLimits kCc70 = limits(2048, 32, 65536, 96 * 1024, 96 * 1024, 256);    // V100, TITAN V
const ComputeLimits kCc80 = limits(2048, 32, 65536, 164 * 1024, 163 * 1024, 128);  // A100
const ComputeLimits kCc86 = limits(1536, 16, 65536, 100 * 1024, 99 * 1024, 128);   // RTX 30xx
const ComputeLimits kCc90 = limits(2048, 32, 65536, 228 * 1024, 227 * 1024, 128);  // H100
constexpr int kGranularity = 4;  // four warp schedulers per SM on all of these

struct Shape {
  const char* what;
  const ComputeLimits* cc;
  long threads;
  int registers;
  long shared;
  // Expected:
  int warps_per_block, limit_registers, limit_shared, limit_warps, active;
  double theoretical;
};

}  // namespace

TEST(GpuOccupancy, PptGpuBfsSample) {
  // CC 7.0, 18 registers, 512 threads, no shared memory: 16 warps per block; warps: min(32, 64/16) = 4;
  // registers: 18*32 = 576 -> 768 per warp, 65536/768 = 85 warps -> 84 (multiple of 4), 84/16 = 5 blocks.
  const Occupancy o = compute_occupancy(kCc70, kGranularity, 512, 18, 0);
  EXPECT_EQ(o.warps_per_block, 16);
  EXPECT_EQ(o.limit_blocks, 32);
  EXPECT_EQ(o.limit_registers, 5);
  EXPECT_EQ(o.limit_shared, 32);
  EXPECT_EQ(o.limit_warps, 4);
  EXPECT_EQ(o.active_blocks, 4);
  EXPECT_DOUBLE_EQ(o.theoretical, 1.0);
}

TEST(GpuOccupancy, TableOfShapes) {
  // Each row worked by the calculator's rules: W = ceil(threads/32); warps limit min(blocks/SM,
  // floor(warps/SM / W)); registers: per warp ceil_256(regs*32), warps = floor_4(65536 / per warp), blocks =
  // floor(warps / W)
  // * floor(registers/SM / 65536); shared: floor(shared/SM / ceil_unit(shared)); 0 registers or shared: the
  // block slots. Occupancy = active * W / warps per SM.
  const Shape shapes[] = {
      // CUDA C++ Best Practices Guide, "Calculating Occupancy" (CC 7.0): 37 registers, 128-thread blocks ->
      // 12 blocks, 75 %. 37*32 = 1184 -> 1280; 65536/1280 = 51 -> 48 warps; 48/4 = 12; warps min(32, 16).
      {"best practices 128", &kCc70, 128, 37, 0, 4, 12, 32, 16, 12, 0.75},
      // ... and 320-thread blocks -> 4 blocks, 63 %: W = 10, 48/10 = 4; warps 64/10 = 6; 40/64 = 62.5 %.
      {"best practices 320", &kCc70, 320, 37, 0, 10, 4, 32, 6, 4, 0.625},
      // 32 registers is the most that still gives 100 %: 1024 per warp, 64 warps, 64/8 = 8 blocks.
      {"32 regs", &kCc70, 256, 32, 0, 8, 8, 32, 8, 8, 1.0},
      // 64 registers: 2048 per warp, 32 warps, 32/8 = 4 blocks, 32/64 = 50 %.
      {"64 regs", &kCc70, 256, 64, 0, 8, 4, 32, 8, 4, 0.5},
      // 255 registers: 8160 -> 8192 per warp, 8 warps, 8/8 = 1 block, 8/64 = 12.5 %.
      {"255 regs", &kCc70, 256, 255, 0, 8, 1, 32, 8, 1, 0.125},
      // One-warp blocks: 16 regs = 512 per warp, 128 warps -> 128 blocks; warps min(32, 64) = 32;
      // the 32 block slots bind: 32 warps, 50 %.
      {"tiny blocks", &kCc70, 32, 16, 0, 1, 128, 32, 32, 32, 0.5},
      // Shared-bound: 20000 B -> 20224 (79 units of 256), 98304/20224 = 4 blocks of 4 warps, 25 %.
      {"shared 20000", &kCc70, 128, 0, 20000, 4, 32, 4, 16, 4, 0.25},
      // 1024 threads, 32 regs, 48 KB: W = 32; warps 64/32 = 2; regs 64/32 = 2; shared 98304/49152 = 2.
      {"1024 threads 48 KB", &kCc70, 1024, 32, 48 * 1024, 32, 2, 2, 2, 2, 1.0},
      // 1000 threads round up to 32 warps: 20 regs = 640 -> 768 per warp, 84 warps, 84/32 = 2; warps 2.
      {"1000 threads", &kCc70, 1000, 20, 0, 32, 2, 32, 2, 2, 1.0},
      // 96 threads, 40 regs: W = 3; 1280 per warp, 51 -> 48 warps, 48/3 = 16; warps min(32, 21) = 21;
      // 16 blocks * 3 = 48 warps, 75 %.
      {"96 threads", &kCc70, 96, 40, 0, 3, 16, 32, 21, 16, 0.75},
      // 72 regs = 2304 per warp (9 units), 65536/2304 = 28 warps (28 is a multiple of 4), W = 6 -> 4 blocks;
      // 1 B of shared rounds to 256: 98304/256 = 384 blocks; warps 64/6 = 10; 24/64 = 37.5 %.
      {"72 regs, 1 B shared", &kCc70, 192, 72, 1, 6, 4, 384, 10, 4, 0.375},
      // CC 3.7 has twice the per-block register budget per SM: 64 regs = 2048 per warp, 32 warps, 32/8 = 4
      // blocks per 64 K budget, * 131072/65536 = 8; warps min(16, 8) = 8; 64 warps, 100 %.
      {"CC 3.7 register file", &kCc37, 256, 64, 0, 8, 8, 16, 8, 8, 1.0},
      // CC 8.0, the same 256 x 32 shape: 8 blocks, 100 %.
      {"A100 32 regs", &kCc80, 256, 32, 0, 8, 8, 32, 8, 8, 1.0},
      // CC 8.0 shared-bound: 40000 B -> 40064 (313 units of 128), 167936/40064 = 4 blocks, 16 warps, 25 %.
      {"A100 shared 40000", &kCc80, 128, 0, 40000, 4, 32, 4, 16, 4, 0.25},
      // CC 8.0, 48 regs: 1536 per warp, 65536/1536 = 42 -> 40 warps; W = 2 -> 20 blocks; warps min(32, 32);
      // shared 9000 -> 9088 (71 units), 167936/9088 = 18 blocks; 36 warps, 56.25 %.
      {"A100 registers vs shared", &kCc80, 64, 48, 9000, 2, 20, 18, 32, 18, 0.5625},
      // CC 8.6 has 48 warps and 16 blocks per SM: 256 threads x 32 regs: warps min(16, 48/8 = 6) = 6;
      // registers 64/8 = 8; 6 blocks = 48 warps, 100 %.
      {"RTX 3090 256 threads", &kCc86, 256, 32, 0, 8, 8, 16, 6, 6, 1.0},
      // CC 8.6, 64 threads x 16 regs: W = 2; warps min(16, 24) = 16; regs 512/warp, 128 warps, 64 blocks;
      // 16 blocks = 32 warps of 48, 66.7 %.
      {"RTX 3090 small blocks", &kCc86, 64, 16, 0, 2, 64, 16, 16, 16, 32.0 / 48.0},
      // CC 9.0, 512 threads x 48 regs: 1536 per warp, 42 -> 40 warps, 40/16 = 2 blocks; warps 64/16 = 4;
      // 32 warps, 50 %.
      {"H100 48 regs", &kCc90, 512, 48, 0, 16, 2, 32, 4, 2, 0.5},
      // CC 9.0, 128 threads x 128 regs, 100000 B shared: regs 4096 per warp, 16 warps, 16/4 = 4 blocks;
      // shared 100000 -> 100096 (782 units), 233472/100096 = 2 blocks; 8 warps, 12.5 %.
      {"H100 shared-bound", &kCc90, 128, 128, 100000, 4, 4, 2, 16, 2, 0.125},
      // CC 9.0, 1024 threads x 64 regs: 2048 per warp, 32 warps, 32/32 = 1 block; warps 64/32 = 2; 50 %.
      {"H100 1024 threads", &kCc90, 1024, 64, 0, 32, 1, 32, 2, 1, 0.5},
  };
  for (const Shape& s : shapes) {
    SCOPED_TRACE(s.what);
    const Occupancy o = compute_occupancy(*s.cc, kGranularity, s.threads, s.registers, s.shared);
    EXPECT_EQ(o.warps_per_block, s.warps_per_block);
    EXPECT_EQ(o.limit_blocks, s.cc->max_blocks_sm);
    EXPECT_EQ(o.limit_registers, s.limit_registers);
    EXPECT_EQ(o.limit_shared, s.limit_shared);
    EXPECT_EQ(o.limit_warps, s.limit_warps);
    EXPECT_EQ(o.active_blocks, s.active);
    EXPECT_DOUBLE_EQ(o.theoretical, s.theoretical);
  }
}

TEST(GpuOccupancy, RegisterGranularity) {
  // 40 regs = 1280 per warp, 65536/1280 = 51 warps: one-warp blocks get 48 at granularity 4, 51 at 1.
  EXPECT_EQ(compute_occupancy(kCc70, 4, 32, 40, 0).limit_registers, 48);
  EXPECT_EQ(compute_occupancy(kCc70, 1, 32, 40, 0).limit_registers, 51);
  EXPECT_EQ(compute_occupancy(kCc70, 2, 32, 40, 0).limit_registers, 50);
}

TEST(GpuOccupancy, SharedMemoryIsTakenAsGiven) {
  // From CC 8.0 CUDA reserves 1 KB of shared memory per block for the system; ComputeLimits has no field for
  // it, so a caller that wants the calculator's number passes it in: 5000 B on CC 8.0 -> 5120, 32 blocks;
  // 5000 + 1024 -> 6144, 167936/6144 = 27 blocks.
  EXPECT_EQ(compute_occupancy(kCc80, kGranularity, 64, 24, 5000).limit_shared, 32);
  EXPECT_EQ(compute_occupancy(kCc80, kGranularity, 64, 24, 5000 + 1024).limit_shared, 27);
}

TEST(GpuOccupancy, RejectsBlocksThatCannotLaunch) {
  EXPECT_THROW(compute_occupancy(kCc70, kGranularity, 1025, 32, 0), std::invalid_argument);  // threads
  EXPECT_THROW(compute_occupancy(kCc70, kGranularity, 0, 32, 0), std::invalid_argument);
  EXPECT_THROW(compute_occupancy(kCc70, kGranularity, 256, 256, 0), std::invalid_argument);  // regs/thread
  EXPECT_THROW(compute_occupancy(kCc70, kGranularity, 256, -1, 0), std::invalid_argument);
  // 1024 threads x 255 regs need 32 * 8192 registers, more than a block's 65536.
  EXPECT_THROW(compute_occupancy(kCc70, kGranularity, 1024, 255, 0), std::invalid_argument);
  EXPECT_THROW(compute_occupancy(kCc70, kGranularity, 256, 32, 96 * 1024 + 1), std::invalid_argument);
  EXPECT_THROW(compute_occupancy(kCc70, kGranularity, 256, 32, -1), std::invalid_argument);
  EXPECT_THROW(compute_occupancy(kCc70, 0, 256, 32, 0), std::invalid_argument);
  EXPECT_THROW(compute_occupancy(ComputeLimits{}, kGranularity, 256, 32, 0), std::invalid_argument);
  try {
    compute_occupancy(kCc70, kGranularity, 2048, 32, 0);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "occupancy: a block of 2048 threads exceeds the limit of 1024 threads per block");
  }
  // The largest legal shapes still launch.
  EXPECT_EQ(compute_occupancy(kCc70, kGranularity, 1024, 64, 96 * 1024).active_blocks, 1);
}
