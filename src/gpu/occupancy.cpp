// Theoretical occupancy of a kernel on an SM, by the rules of NVIDIA's CUDA Occupancy Calculator.
#include "gpu/occupancy.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace whatif::gpu {

namespace {

long ceil_to(long x, long unit) {
  return (x + unit - 1) / unit * unit;
}
long floor_to(long x, long unit) {
  return x / unit * unit;
}

[[noreturn]] void fail(const std::string& message) {
  throw std::invalid_argument("occupancy: " + message);
}

}  // namespace

Occupancy compute_occupancy(const ComputeLimits& limits, int warp_allocation_granularity, long block_threads,
                            int registers_per_thread, long shared_per_block) {
  if (limits.warp_size <= 0 || limits.max_threads_block <= 0 || limits.max_blocks_sm <= 0 ||
      limits.max_warps_sm <= 0 || limits.registers_sm <= 0 || limits.max_registers_block <= 0 ||
      limits.max_registers_thread <= 0 || limits.register_unit <= 0 || limits.shared_unit <= 0 ||
      limits.shared_sm < 0) {
    fail("the compute-capability limits are incomplete");
  }
  if (warp_allocation_granularity <= 0) fail("the warp allocation granularity must be positive");
  if (block_threads <= 0) fail("a block needs at least one thread, got " + std::to_string(block_threads));
  if (block_threads > limits.max_threads_block) {
    fail("a block of " + std::to_string(block_threads) + " threads exceeds the limit of " +
         std::to_string(limits.max_threads_block) + " threads per block");
  }
  if (registers_per_thread < 0) fail("negative registers per thread");
  if (registers_per_thread > limits.max_registers_thread) {
    fail(std::to_string(registers_per_thread) + " registers per thread exceed the limit of " +
         std::to_string(limits.max_registers_thread));
  }
  if (shared_per_block < 0) fail("negative shared memory per block");
  const long max_shared_block = limits.max_shared_block > 0 ? limits.max_shared_block : limits.shared_sm;
  if (shared_per_block > max_shared_block) {
    fail(std::to_string(shared_per_block) + " bytes of shared memory per block exceed the limit of " +
         std::to_string(max_shared_block) + " bytes");
  }

  Occupancy o;
  o.warps_per_block = static_cast<int>((block_threads + limits.warp_size - 1) / limits.warp_size);
  o.limit_blocks = limits.max_blocks_sm;
  o.limit_warps = std::min(limits.max_blocks_sm, limits.max_warps_sm / o.warps_per_block);
  if (o.limit_warps == 0) {
    fail("a block of " + std::to_string(o.warps_per_block) + " warps exceeds the SM's " +
         std::to_string(limits.max_warps_sm) + " warp slots");
  }

  if (registers_per_thread == 0) {
    o.limit_registers = limits.max_blocks_sm;
  } else {
    // Registers are allocated per warp in register_unit chunks; the per-block register budget then holds a
    // whole number of such warps, rounded down to the granularity (the register file is split between the
    // schedulers), and an SM whose file is larger than a block's budget holds that many budgets.
    const long per_warp =
        ceil_to(static_cast<long>(registers_per_thread) * limits.warp_size, limits.register_unit);
    const long warps = floor_to(limits.max_registers_block / per_warp, warp_allocation_granularity);
    o.limit_registers =
        static_cast<int>(warps / o.warps_per_block * (limits.registers_sm / limits.max_registers_block));
    if (o.limit_registers == 0) {
      fail("a block of " + std::to_string(block_threads) + " threads at " +
           std::to_string(registers_per_thread) + " registers per thread needs " +
           std::to_string(per_warp * o.warps_per_block) + " registers, more than the " +
           std::to_string(limits.max_registers_block) + " a block may have");
    }
  }

  if (shared_per_block == 0) {
    o.limit_shared = limits.max_blocks_sm;
  } else {
    o.limit_shared = static_cast<int>(limits.shared_sm / ceil_to(shared_per_block, limits.shared_unit));
    if (o.limit_shared == 0) {
      fail(std::to_string(shared_per_block) + " bytes of shared memory per block do not fit the SM's " +
           std::to_string(limits.shared_sm) + " bytes");
    }
  }

  o.active_blocks = std::min({o.limit_blocks, o.limit_registers, o.limit_shared, o.limit_warps});
  o.theoretical = static_cast<double>(o.active_blocks) * o.warps_per_block / limits.max_warps_sm;
  return o;
}

}  // namespace whatif::gpu
