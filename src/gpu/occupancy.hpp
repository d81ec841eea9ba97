// Theoretical occupancy of a kernel on an SM, by the rules of NVIDIA's CUDA Occupancy Calculator.
#pragma once

#include "gpu/hardware.hpp"

namespace whatif::gpu {

struct Occupancy {
  int warps_per_block = 0;
  // Resident blocks per SM each resource allows (the register and shared limits may exceed the SM's).
  int limit_blocks = 0;     // the SM's block slots
  int limit_registers = 0;  // the register file
  int limit_shared = 0;     // shared memory
  int limit_warps = 0;      // warp slots (also capped by the block slots, as the calculator shows it)
  int active_blocks = 0;    // the least of the four
  double theoretical = 0;   // active warps / the SM's warp slots, 0..1
};

// Occupancy of blocks of `block_threads` threads using `registers_per_thread` registers and
// `shared_per_block` bytes of shared memory. `warp_allocation_granularity` is the number of warps the
// register file is split between (the warp schedulers per SM): warps per SM limited by registers are rounded
// down to a multiple of it. Zero registers or zero shared memory impose no limit (limit = block slots).
// Throws std::invalid_argument when the block cannot launch at all: too many threads, registers per thread
// or shared memory per block, or a block whose registers alone exceed the SM's (and on negative sizes or
// limits that are not set).
Occupancy compute_occupancy(const ComputeLimits& limits, int warp_allocation_granularity, long block_threads,
                            int registers_per_thread, long shared_per_block);

}  // namespace whatif::gpu
