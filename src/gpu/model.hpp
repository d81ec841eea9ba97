// The kernel model: occupancy, memory (coalescing, reuse distances, cache hit rates, transactions) and an SM
// issue model over the traced warps, giving cycles, time and stalls per kernel of a trace on a GPU.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/hardware.hpp"
#include "gpu/occupancy.hpp"
#include "gpu/trace.hpp"

namespace whatif::gpu {

// Why a scheduler issued nothing in a cycle (or that it issued).
enum class Stall : std::uint8_t {
  issued,        // it issued an instruction
  idle,          // no resident warp had work (blocks not launched yet, or all finished)
  memory,        // the oldest waiting warp waits for a memory load's result
  execution,     // ... for an ALU result
  pipe_busy,     // ... for its unit to accept another instruction
  barrier,       // ... at a block barrier for the block's other warps
  memory_fence,  // ... for its outstanding memory operations (MEMBAR)
};
constexpr int kStalls = 7;
std::string_view to_string(Stall s);

struct MemoryStats {
  long read_requests = 0, write_requests = 0, atomic_requests = 0;  // global and local warp instructions
  long read_transactions = 0, write_transactions = 0, atomic_transactions = 0;  // distinct L1 lines
  double l1_hit = 0, l1_read_hit = 0;  // expected hit rates over all / read transactions
  double l2_hit = 0;
  // l1_hit and l1_read_hit are hits / accesses over all SMs. PPT-GPU instead averages the SMs' rates, so that
  // an SM with 16 accesses weighs as much as one with 89, and uses its own hit formula. Both variants are
  // kept to tell the averaging's and the formula's shares of a difference apart: the exact formula averaged
  // over SMs, and PPT-GPU's formula averaged over SMs (which reproduces PPT-GPU).
  double sm_mean_l1_hit = 0, sm_mean_l1_read_hit = 0;
  double ppt_l1_hit = 0, ppt_l1_read_hit = 0, ppt_l2_hit = 0;
  double l2_read_transactions = 0, l2_write_transactions = 0, dram_transactions = 0;
  double load_latency = 0;  // cycles: average global load latency from the hit rates and queueing
  double dram_queue = 0, noc_queue = 0;  // cycles a request waits at a DRAM channel / an L2 slice
};

struct KernelPrediction {
  int id = 0;
  std::string name;
  long blocks = 0, threads_per_block = 0;
  int registers = 0;
  long shared_bytes = 0;
  Occupancy occupancy;            // theoretical
  int resident_blocks = 0;        // blocks one SM runs at once: min(occupancy, blocks per SM)
  long blocks_on_busiest_sm = 0;  // ceil(blocks / SMs)
  double achieved_warps = 0;      // time-averaged resident warps on the busiest SM
  double achieved_occupancy = 0;  // achieved_warps / max warps per SM
  MemoryStats memory;
  long warp_instructions = 0;              // over the whole kernel
  long thread_instructions = 0;            // active lanes (all 32 where the trace has no mask)
  double issue_cycles = 0;                 // the busiest SM's issue model
  double dram_cycles = 0, noc_cycles = 0;  // the whole GPU's DRAM and NoC traffic at full bandwidth
  double cycles = 0;                       // max of the three
  std::string bound;                       // which one: "issue", "dram" or "noc"
  double ipc = 0;                          // warp instructions per cycle of the busiest SM
  double seconds = 0;
  std::array<double, kStalls> stalls{};  // fraction of scheduler cycles by reason
  std::vector<std::string> unknown_opcodes;
};

struct AppPrediction {
  std::string gpu, trace_dir, format;
  std::vector<KernelPrediction> kernels;
  double seconds = 0;  // kernels one after another (one stream)
  std::vector<std::string> warnings;
};

KernelPrediction predict_kernel(const KernelTrace& kernel, const GpuHardware& gpu);
AppPrediction predict_application(const TraceApplication& app, const GpuHardware& gpu);

}  // namespace whatif::gpu
