// Unit tests of the GPU kernel model (issue model, memory model, occupancy plumbing) on hand-built hardware
// and traces whose cycles and counts are worked out by hand in the comments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/diagnostics.hpp"
#include "gpu/hardware.hpp"
#include "gpu/model.hpp"
#include "gpu/trace.hpp"

using whatif::core::InputError;
using whatif::gpu::AppPrediction;
using whatif::gpu::BlockMemory;
using whatif::gpu::GpuHardware;
using whatif::gpu::Instruction;
using whatif::gpu::IsaEntry;
using whatif::gpu::KernelPrediction;
using whatif::gpu::KernelTrace;
using whatif::gpu::kZeroReg;
using whatif::gpu::MemoryRecord;
using whatif::gpu::OpKind;
using whatif::gpu::predict_application;
using whatif::gpu::predict_kernel;
using whatif::gpu::Reg;
using whatif::gpu::Stall;
using whatif::gpu::TraceApplication;
using whatif::gpu::Unit;

namespace {

// Round numbers, so every expected cycle count below is a short sum.
constexpr int kLaunch = 100;  // block launch overhead
constexpr int kAlu = 4;       // IADD, FFMA, DADD, BRA latency
constexpr int kL1 = 20, kL2 = 100, kDram = 500, kShared = 30, kAtomic = 200;

GpuHardware test_gpu() {
  GpuHardware g;
  g.name = "TestGPU";
  g.architecture = "testarch";
  g.file = "built in gpu_model_test.cpp";
  g.cc_major = 7;
  g.cc_minor = 0;
  g.clock_hz = 1e9;  // 1 cycle = 1 ns
  g.sms = 1;
  // Per SM; four schedulers, so 128 units give each partition 32 lanes (issue interval 1) and 16 give 4
  // lanes (interval 32 / 4 = 8).
  g.units[static_cast<int>(Unit::int_alu)] = 128;
  g.units[static_cast<int>(Unit::fp32)] = 128;
  g.units[static_cast<int>(Unit::fp64)] = 16;
  g.units[static_cast<int>(Unit::sfu)] = 16;
  g.units[static_cast<int>(Unit::tensor)] = 8;
  g.units[static_cast<int>(Unit::ldst)] = 128;
  g.units[static_cast<int>(Unit::branch)] = 128;
  g.units[static_cast<int>(Unit::tex)] = 16;
  g.schedulers = 4;
  g.dispatch = 1;
  g.l1_bytes = 32 * 1024;  // 256 lines of 128 B
  g.l1_line = 128;
  g.l1_sector = 32;
  g.l1_assoc = 4;
  g.l1_caches_global_loads = true;
  g.l2_bytes = 1024 * 1024;  // 32768 sectors of 32 B
  g.l2_line = 128;
  g.l2_assoc = 16;
  g.l2_partitions = 2;
  g.dram_channels = 2;
  // Fast enough that none of the small kernels below is bandwidth-bound.
  g.dram_bandwidth = 1e15;
  g.noc_bandwidth = 2e15;
  g.latency.dram = kDram;
  g.latency.l1 = kL1;
  g.latency.l2 = kL2;
  g.latency.shared = kShared;
  g.latency.constant = 8;
  g.latency.local = 40;
  g.latency.texture = 60;
  g.latency.atomic = kAtomic;
  g.latency.block_launch = kLaunch;
  g.limits.warp_size = 32;
  g.limits.max_threads_block = 1024;
  g.limits.max_threads_sm = 2048;
  g.limits.max_blocks_sm = 32;
  g.limits.max_warps_sm = 64;
  g.limits.registers_sm = 65536;
  g.limits.max_registers_block = 65536;
  g.limits.max_registers_thread = 255;
  g.limits.register_unit = 256;
  g.limits.shared_unit = 256;
  g.limits.max_shared_block = 48 * 1024;
  g.limits.shared_sm = 64 * 1024;
  g.isa.architecture = "testarch";
  g.isa.file = "isa/testarch.yaml";
  g.isa.opcodes = {
      {"IADD", {Unit::int_alu, OpKind::alu, kAlu}},      {"FFMA", {Unit::fp32, OpKind::alu, kAlu}},
      {"DADD", {Unit::fp64, OpKind::alu, kAlu}},         {"LDG", {Unit::ldst, OpKind::global_load, 0}},
      {"STG", {Unit::ldst, OpKind::global_store, 0}},    {"LDS", {Unit::ldst, OpKind::shared_load, 0}},
      {"ATOM", {Unit::ldst, OpKind::atomic, 0}},         {"BAR", {Unit::branch, OpKind::barrier, 0}},
      {"MEMBAR", {Unit::ldst, OpKind::memory_fence, 0}}, {"BRA", {Unit::branch, OpKind::branch, kAlu}},
      {"EXIT", {Unit::branch, OpKind::exit, 0}},
  };
  g.isa.fallback = {Unit::int_alu, OpKind::alu, kAlu};
  return g;
}

Reg r(int n) {
  return static_cast<Reg>(n);
}

// A kernel trace built by hand: one traced block's instructions and, per block, its memory records.
struct Kernel {
  KernelTrace k;

  explicit Kernel(std::string name, long blocks = 1, long threads = 32) {
    k.id = 1;
    k.name = std::move(name);
    k.grid = {blocks, 1, 1};
    k.block = {threads, 1, 1};
  }
  std::uint32_t opcode(const std::string& mnemonic) {
    for (std::uint32_t i = 0; i < k.opcodes.size(); ++i)
      if (k.opcodes[i] == mnemonic) return i;
    k.opcodes.push_back(mnemonic);
    return static_cast<std::uint32_t>(k.opcodes.size() - 1);
  }
  Kernel& ins(int warp, const std::string& mnemonic, std::vector<Reg> operands, int dst_count = -1,
              std::uint32_t mask = 0xffffffffu) {
    Instruction i;
    i.opcode = opcode(mnemonic);
    i.warp = warp;
    i.active_mask = mask;
    i.operands = std::move(operands);
    i.dst_count = static_cast<std::int8_t>(dst_count);
    k.instructions.push_back(std::move(i));
    k.traced_warps = std::max(k.traced_warps, warp + 1);
    return *this;
  }
  // n IADDs, each reading the previous one's result: R(base+1) <- R(base), R(base+2) <- R(base+1), ...
  Kernel& chain(int warp, int n, int base = 0) {
    for (int i = 0; i < n; ++i)
      ins(warp, "IADD", {r(base + i + 1), r(base + i)});
    return *this;
  }
  // n instructions that all read R0 only (writing R1..R200 in turn: the model tracks no write-after-write).
  Kernel& independent(int warp, int n, const std::string& mnemonic = "IADD") {
    for (int i = 0; i < n; ++i)
      ins(warp, mnemonic, {r(1 + i % 200), r(0)});
    return *this;
  }
  // One warp memory instruction of `block` touching these 32-byte sectors (address >> 5).
  Kernel& mem(long block, const std::string& mnemonic, const std::vector<std::uint64_t>& sectors) {
    auto it = std::find_if(k.memory.begin(), k.memory.end(),
                           [&](const BlockMemory& b) { return b.block >= block; });
    if (it == k.memory.end() || it->block != block) {
      BlockMemory b;
      b.block = block;
      it = k.memory.insert(it, b);
    }
    MemoryRecord m;
    m.opcode = opcode(mnemonic);
    m.lanes = 32;
    m.first = static_cast<std::uint32_t>(it->sectors.size());
    m.count = static_cast<std::uint32_t>(sectors.size());
    it->sectors.insert(it->sectors.end(), sectors.begin(), sectors.end());
    it->records.push_back(m);
    return *this;
  }
};

double stall(const KernelPrediction& p, Stall s) {
  return p.stalls[static_cast<int>(s)];
}

// 32 sectors 128 B apart: 32 lanes reading 4 bytes each with a 128-byte stride.
std::vector<std::uint64_t> strided(std::uint64_t first_sector) {
  std::vector<std::uint64_t> s;
  for (std::uint64_t i = 0; i < 32; ++i)
    s.push_back(first_sector + 4 * i);
  return s;
}

}  // namespace

// ---- 1. The issue model on one warp ----

TEST(GpuModel, DependentChainPaysOneLatencyPerLinkButNotTheLast) {
  // Ten IADDs, each reading the previous result. The block launches at 100 (overhead); the first issues at
  // 100 and each next one waits 4 cycles for its source: the tenth issues at 100 + 9*4 = 136. The warp
  // retires when its last instruction issues, so the block ends the cycle after, 137: the model charges
  // launch + (n-1) * latency + 1, not launch + n * latency = 140, because nothing waits for the last ALU
  // result (only outstanding memory operations hold a finishing block, see the load tests).
  Kernel k("chain");
  k.chain(0, 10);
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.issue_cycles, 137);
  EXPECT_DOUBLE_EQ(p.cycles, 137);
  EXPECT_EQ(p.bound, "issue");
  EXPECT_DOUBLE_EQ(p.seconds, 137e-9);  // 1 GHz
  EXPECT_EQ(p.warp_instructions, 10);
  EXPECT_EQ(p.thread_instructions, 320);
  EXPECT_DOUBLE_EQ(p.ipc, 10.0 / 137);
  // 4 schedulers x 137 cycles = 548 slots. Scheduler 0 (the warp's): 100 idle before launch, 10 issued,
  // 9 gaps of 3 cycles waiting for a result = 27 execution; schedulers 1-3 have no warp: 3 * 137 idle.
  EXPECT_DOUBLE_EQ(stall(p, Stall::issued), 10.0 / 548);
  EXPECT_DOUBLE_EQ(stall(p, Stall::execution), 27.0 / 548);
  EXPECT_DOUBLE_EQ(stall(p, Stall::idle), (100.0 + 3 * 137) / 548);
  EXPECT_DOUBLE_EQ(stall(p, Stall::memory), 0);
}

TEST(GpuModel, IndependentInstructionsIssueOnePerCycle) {
  // Ten IADDs reading only R0: issue at 100, 101, ..., 109; the block ends at 110.
  Kernel k("independent");
  k.independent(0, 10);
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.issue_cycles, 110);
  EXPECT_DOUBLE_EQ(stall(p, Stall::execution), 0);
  EXPECT_DOUBLE_EQ(stall(p, Stall::issued), 10.0 / (4 * 110));
}

TEST(GpuModel, DestinationCountDecidesWhatIsWritten) {
  const GpuHardware gpu = test_gpu();
  // PPT-GPU convention (dst_count -1): the first operand R1 is written, so the second IADD waits for it:
  // issues at 100 and 104, ends at 105.
  Kernel ppt("ppt");
  ppt.ins(0, "IADD", {r(1), r(0)}).ins(0, "IADD", {r(2), r(1)});
  EXPECT_DOUBLE_EQ(predict_kernel(ppt.k, gpu).issue_cycles, 105);
  // Accel-Sim says there is no destination: R1 is only read, so no dependency: 100, 101, end 102.
  Kernel none("none");
  none.ins(0, "IADD", {r(1), r(0)}, 0).ins(0, "IADD", {r(2), r(1)}, 1);
  EXPECT_DOUBLE_EQ(predict_kernel(none.k, gpu).issue_cycles, 102);
  // Two destinations: the second one (R2) is written too: 100, 104, end 105.
  Kernel two("two");
  two.ins(0, "IADD", {r(1), r(2), r(0)}, 2).ins(0, "IADD", {r(3), r(2)}, 1);
  EXPECT_DOUBLE_EQ(predict_kernel(two.k, gpu).issue_cycles, 105);
  // RZ is never a dependency, written or read: 100, 101, end 102.
  Kernel rz("rz");
  rz.ins(0, "IADD", {kZeroReg, r(0)}).ins(0, "IADD", {r(2), kZeroReg});
  EXPECT_DOUBLE_EQ(predict_kernel(rz.k, gpu).issue_cycles, 102);
}

TEST(GpuModel, NarrowUnitThrottlesIssue) {
  GpuHardware gpu = test_gpu();
  Kernel k("dadd");
  k.independent(0, 5, "DADD");
  // 16 fp64 units / 4 schedulers = 4 lanes per partition: a warp instruction occupies the pipe 32 / 4 = 8
  // cycles. Five independent DADDs issue at 100, 108, 116, 124, 132; end 133.
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, gpu).issue_cycles, 133);
  // 12 units: 3 lanes per partition, ceil(32 / 3) = 11 cycles: 100, 111, 122, 133, 144; end 145. The 4 gaps
  // of 10 cycles are pipe-busy stalls: 40 of 4 * 145 = 580 slots.
  gpu.units[static_cast<int>(Unit::fp64)] = 12;
  const KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(p.issue_cycles, 145);
  EXPECT_DOUBLE_EQ(stall(p, Stall::pipe_busy), 40.0 / 580);
  EXPECT_DOUBLE_EQ(stall(p, Stall::execution), 0);
}

TEST(GpuModel, PipeIsPerSchedulerPartition) {
  GpuHardware gpu = test_gpu();
  gpu.units[static_cast<int>(Unit::fp64)] = 12;
  // Two warps of 5 DADDs. On 4 schedulers they sit on different partitions, each with its own 3-lane pipe
  // (interval 11): both finish as one warp alone would, at 145.
  Kernel k("dadd2", 1, 64);
  k.independent(0, 5, "DADD").independent(1, 5, "DADD");
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, gpu).issue_cycles, 145);
  // One scheduler: one pipe of 12 lanes, interval ceil(32 / 12) = 3, shared by the 10 DADDs: 100, 103, ...,
  // 127; end 128.
  gpu.schedulers = 1;
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, gpu).issue_cycles, 128);
}

TEST(GpuModel, DispatchIssuesToDifferentUnitsInOneCycle) {
  GpuHardware gpu = test_gpu();
  gpu.schedulers = 1;  // one partition of 128 lanes per unit: interval 1
  // Warp 0: 5 independent IADDs; warp 1: 5 independent FFMAs; both on the one scheduler.
  Kernel k("dual", 1, 64);
  k.independent(0, 5, "IADD").independent(1, 5, "FFMA");
  // One instruction per cycle: 10 issues at 100..109, end 110.
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, gpu).issue_cycles, 110);
  // Two per cycle, one from each warp (a warp issues at most once a cycle): 100..104, end 105.
  gpu.dispatch = 2;
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, gpu).issue_cycles, 105);
}

TEST(GpuModel, BranchSharedLoadAndAtomicLatencies) {
  const GpuHardware gpu = test_gpu();
  // A branch holds its warp for its latency: BRA at 100, the next IADD at 104, end 105.
  Kernel bra("bra");
  bra.ins(0, "BRA", {}).ins(0, "IADD", {r(1), r(0)});
  EXPECT_DOUBLE_EQ(predict_kernel(bra.k, gpu).issue_cycles, 105);
  // LDS R1 then a reader of R1: the shared latency, 100 + 30 = 130, end 131.
  Kernel lds("lds");
  lds.ins(0, "LDS", {r(1), r(2)}).ins(0, "IADD", {r(3), r(1)});
  EXPECT_DOUBLE_EQ(predict_kernel(lds.k, gpu).issue_cycles, 131);
  // An atomic holds the warp until it returns, even for an independent next instruction: 100 + 200 = 300,
  // end 301.
  Kernel atom("atom");
  atom.ins(0, "ATOM", {r(1), r(2)}).ins(0, "IADD", {r(3), r(0)});
  EXPECT_DOUBLE_EQ(predict_kernel(atom.k, gpu).issue_cycles, 301);
}

TEST(GpuModel, ThreadInstructionsCountActiveLanes) {
  // Two blocks of a trace with 32 + 16 + 1 active lanes: 49 per block, 98 in all; 3 * 2 = 6 warp
  // instructions.
  Kernel k("masked", 2);
  k.ins(0, "IADD", {r(1), r(0)})
      .ins(0, "IADD", {r(2), r(0)}, -1, 0x0000ffffu)
      .ins(0, "IADD", {r(3), r(0)}, -1, 1u);
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_EQ(p.warp_instructions, 6);
  EXPECT_EQ(p.thread_instructions, 98);
}

// ---- 2. Loads ----

TEST(GpuModel, ColdLoadCostsDramLatency) {
  // Block 0 reads one sector never seen before: L1 and L2 both miss, the load latency is the DRAM's, 500.
  // LDG R1 at 100; the IADD reading R1 at 600; end 601. Scheduler 0 waits 599 - 100 = 499 cycles on memory.
  Kernel k("cold");
  k.ins(0, "LDG.E", {r(1), r(2)}).ins(0, "IADD", {r(3), r(1)});
  k.mem(0, "LDG.E", {1000});
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.memory.l1_read_hit, 0);
  EXPECT_DOUBLE_EQ(p.memory.l2_hit, 0);
  EXPECT_DOUBLE_EQ(p.memory.load_latency, kDram);
  EXPECT_DOUBLE_EQ(p.issue_cycles, 601);
  EXPECT_DOUBLE_EQ(stall(p, Stall::memory), 499.0 / (4 * 601));
  EXPECT_DOUBLE_EQ(stall(p, Stall::execution), 0);
}

TEST(GpuModel, LoadAddressIsNotWaitedForByItsResultReaders) {
  // LDG R1 <- [R2]: R2 is a source, not written, so an IADD reading R2 goes at 101 and ends at 102... but the
  // block then waits for the outstanding load: max(102, 100 + 500) = 600.
  Kernel k("address");
  k.ins(0, "LDG", {r(1), r(2)}).ins(0, "IADD", {r(3), r(2)});
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, test_gpu()).issue_cycles, 600);
}

TEST(GpuModel, LoadLatencyBlendsHitRates) {
  // Block 0 reads sector 1000 twice. L1 (per 128 B line): cold, then distance 0 -> hit: h1 = 1/2. L2 (per
  // sector, the same two accesses): h2 = 1/2. Latency = h1 L1 + (1-h1)(h2 L2 + (1-h2) DRAM)
  //   = 0.5*20 + 0.5*(0.5*100 + 0.5*500) = 10 + 150 = 160. The reader of R1 issues at 260, end 261.
  Kernel k("blend");
  k.ins(0, "LDG", {r(1), r(2)}).ins(0, "IADD", {r(3), r(1)});
  k.mem(0, "LDG", {1000}).mem(0, "LDG", {1000});
  GpuHardware gpu = test_gpu();
  KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(p.memory.l1_read_hit, 0.5);
  EXPECT_DOUBLE_EQ(p.memory.l2_hit, 0.5);
  EXPECT_DOUBLE_EQ(p.memory.load_latency, 160);
  EXPECT_DOUBLE_EQ(p.issue_cycles, 261);
  // An L1 that does not cache global loads: h1 = 0, latency = 0.5*100 + 0.5*500 = 300 (end 401), and every
  // read goes to L2: 2 L2 reads, 2 * (1 - 0.5) = 1 DRAM transaction.
  gpu.l1_caches_global_loads = false;
  p = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(p.memory.l1_read_hit, 0);
  EXPECT_DOUBLE_EQ(p.memory.load_latency, 300);
  EXPECT_DOUBLE_EQ(p.issue_cycles, 401);
  EXPECT_DOUBLE_EQ(p.memory.l2_read_transactions, 2);
  EXPECT_DOUBLE_EQ(p.memory.dram_transactions, 1);
}

// ---- 3. Barriers and fences ----

TEST(GpuModel, BarrierHoldsWarpsUntilTheBlockArrives) {
  // Warp 0 (scheduler 0): 10 dependent IADDs (100..136), BAR at 137, IADD. Warp 1 (scheduler 1): BAR at 100,
  // IADD. The last arrival (137) releases both for the next cycle: both IADDs at 138, end 139.
  Kernel k("bar", 1, 64);
  k.chain(0, 10).ins(0, "BAR.SYNC", {}).ins(0, "IADD", {r(20), r(0)});
  k.ins(1, "BAR.SYNC", {}).ins(1, "IADD", {r(20), r(0)});
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.issue_cycles, 139);
  // Slots: 4 * 139 = 556. Scheduler 1 is at the barrier over cycles 101..136 = 36 (at 137 it is already
  // released and waits one cycle, charged as execution). Scheduler 0: 100 idle, 12 issued, 9 * 3 = 27
  // execution; scheduler 1: 100 idle, 2 issued, 36 barrier, 1 execution; schedulers 2-3: 2 * 139 idle.
  EXPECT_DOUBLE_EQ(stall(p, Stall::barrier), 36.0 / 556);
  EXPECT_DOUBLE_EQ(stall(p, Stall::issued), 14.0 / 556);
  EXPECT_DOUBLE_EQ(stall(p, Stall::execution), 28.0 / 556);
  EXPECT_DOUBLE_EQ(stall(p, Stall::idle), (200.0 + 2 * 139) / 556);
}

TEST(GpuModel, MemoryFenceWaitsForItsOwnLoadsNotForOtherWarps) {
  // Warp 0: MEMBAR at 100 (no memory outstanding), then 10 dependent IADDs at 101..137: done at 138.
  // Warp 1: LDG at 100 (latency 500, no memory trace: all cold), MEMBAR waits for it until 600, IADD at 601:
  // the block ends at 602. Were MEMBAR a barrier (PPT-GPU's reading of "BAR" as a substring), warp 0 would
  // wait for warp 1's MEMBAR at 600 and end at 601 + 37 = 638; were it no wait at all, warp 1 would end
  // at 102 and the block at its load's return, 600.
  Kernel k("membar", 1, 64);
  k.ins(0, "MEMBAR.GL", {}).chain(0, 10);
  k.ins(1, "LDG", {r(1), r(2)}).ins(1, "MEMBAR.GL", {}).ins(1, "IADD", {r(3), r(0)});
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.issue_cycles, 602);
  // Scheduler 1 waits on the fence over 101..599: 499 of 4 * 602 slots; nobody waits at a barrier.
  EXPECT_DOUBLE_EQ(stall(p, Stall::memory_fence), 499.0 / (4 * 602));
  EXPECT_DOUBLE_EQ(stall(p, Stall::barrier), 0);
}

TEST(GpuModel, BlockWaitsForItsLastWarpsOutstandingLoad) {
  // One warp: LDG at 100, done issuing at 101, but the block ends when the load returns: 600.
  Kernel alone("alone");
  alone.ins(0, "LDG", {r(1), r(2)});
  EXPECT_DOUBLE_EQ(predict_kernel(alone.k, test_gpu()).issue_cycles, 600);
}

TEST(GpuModel, BlockWaitsForEveryWarpsOutstandingLoad) {
  // The same load in warp 0, and a warp 1 of 10 dependent IADDs (100..136) that finishes after it. Adding
  // independent work cannot make the block finish sooner: it still ends when warp 0's load returns, 600.
  // (model.cpp records max(cycle + 1, w.memory_done) for the warp that finishes last only, so gives 137.)
  Kernel k("two-warps", 1, 64);
  k.ins(0, "LDG", {r(1), r(2)});
  k.chain(1, 10);
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, test_gpu()).issue_cycles, 600);
}

// ---- 4. EXIT ----

TEST(GpuModel, PredicatedOffExitDoesNotEndTheWarp) {
  // IADD, EXIT, IADD, IADD (all independent): the trace goes on after the EXIT, so it was not taken; all four
  // issue at 100..103, end 104. Had the EXIT ended the warp: 2 issued, end 102.
  Kernel k("exit");
  k.ins(0, "IADD", {r(1), r(0)}).ins(0, "EXIT", {}).ins(0, "IADD", {r(2), r(0)}).ins(0, "IADD", {r(3), r(0)});
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.issue_cycles, 104);
  EXPECT_DOUBLE_EQ(p.ipc, 4.0 / 104);
  EXPECT_DOUBLE_EQ(stall(p, Stall::issued), 4.0 / (4 * 104));
}

// ---- 5. Memory counts ----

TEST(GpuModel, CoalescingCountsDistinctL1Lines) {
  // Three loads: 32 lanes in one sector; 32 lanes 128 B apart (32 sectors, 4 apart); 32 lanes of 4 B in a
  // contiguous 128 B (4 sectors).
  Kernel k("coalesce");
  k.ins(0, "EXIT", {});
  k.mem(0, "LDG", {1000}).mem(0, "LDG", strided(2000)).mem(0, "LDG", {3000, 3001, 3002, 3003});
  GpuHardware gpu = test_gpu();
  // 128 B lines (sector >> 2): 1 + 32 + 1 = 34 transactions.
  KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_EQ(p.memory.read_requests, 3);
  EXPECT_EQ(p.memory.read_transactions, 34);
  // 32 B lines: 1 + 32 + 4 = 37.
  gpu.l1_line = 32;
  p = predict_kernel(k.k, gpu);
  EXPECT_EQ(p.memory.read_requests, 3);
  EXPECT_EQ(p.memory.read_transactions, 37);
  EXPECT_EQ(p.memory.write_requests + p.memory.atomic_requests, 0);
}

TEST(GpuModel, RequestsSplitByOpcodeKindAndL2TrafficFollowsL1Misses) {
  GpuHardware gpu = test_gpu();
  gpu.l1_line = 32;  // 1024 L1 lines of one sector each, 4 ways
  Kernel k("kinds");
  k.ins(0, "EXIT", {});
  k.mem(0, "LDG.E.64", {10})       // read, cold
      .mem(0, "LDG.E", {10})       // read, distance 0: hit
      .mem(0, "STG.E", {20, 21})   // write: 2 transactions, both cold
      .mem(0, "ATOM.E.ADD", {30})  // atomic, cold
      .mem(0, "LDG.E", {10});      // read, distance 3 (20, 21, 30 since): 3 < 4 ways, a certain hit
  const KernelPrediction p = predict_kernel(k.k, gpu);
  const auto& m = p.memory;
  EXPECT_EQ(m.read_requests, 3);
  EXPECT_EQ(m.write_requests, 1);
  EXPECT_EQ(m.atomic_requests, 1);
  EXPECT_EQ(m.read_transactions, 3);
  EXPECT_EQ(m.write_transactions, 2);
  EXPECT_EQ(m.atomic_transactions, 1);
  // L1: 6 accesses, 2 hits (both reads): l1_hit = 2/6, l1_read_hit = 2/3.
  EXPECT_DOUBLE_EQ(m.l1_hit, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.l1_read_hit, 2.0 / 3);
  // L2 sees the same 6 sectors: hits at distances 0 and 3 (< 16 ways): 2/6.
  EXPECT_DOUBLE_EQ(m.l2_hit, 1.0 / 3);
  // L2 reads = 3 * (1 - 2/3) = 1; L2 writes = stores + atomics = 2 + 1 = 3; DRAM = 4 * (1 - 1/3) = 8/3.
  EXPECT_DOUBLE_EQ(m.l2_read_transactions, 1);
  EXPECT_DOUBLE_EQ(m.l2_write_transactions, 3);
  EXPECT_DOUBLE_EQ(m.dram_transactions, 8.0 / 3);
  // 2/3 * 20 + 1/3 * (1/3 * 100 + 2/3 * 500) = 40/3 + 1100/9 = 1220/9.
  EXPECT_NEAR(m.load_latency, 1220.0 / 9, 1e-9);
}

TEST(GpuModel, L1HitRateOfSameLineTwice) {
  // Two reads of one 128 B line through different sectors (1000 and 1001, both in line 250): the second is
  // a hit in a 256-line L1. L2 is per sector, so both are cold there.
  Kernel k("twice");
  k.ins(0, "EXIT", {});
  k.mem(0, "LDG", {1000}).mem(0, "LDG", {1001});
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.memory.l1_hit, 0.5);
  EXPECT_DOUBLE_EQ(p.memory.l1_read_hit, 0.5);
  EXPECT_DOUBLE_EQ(p.memory.l2_hit, 0);
  // An L1 that does not cache global loads hits none of them.
  GpuHardware bypass = test_gpu();
  bypass.l1_caches_global_loads = false;
  const KernelPrediction q = predict_kernel(k.k, bypass);
  EXPECT_DOUBLE_EQ(q.memory.l1_hit, 0);
  EXPECT_DOUBLE_EQ(q.memory.l1_read_hit, 0);
}

TEST(GpuModel, BlocksOfOneSmInterleaveOneInstructionAtATime) {
  // A 1-line L1 (direct-mapped, fully associative): only distance 0 hits. Blocks 0 and 1 (one SM) each read
  // line A then line B. Interleaved by instruction the L1 sees A A B B: distances cold, 0, cold, 0: 1/2.
  // Block after block (A B A B) it would be cold, cold, 1, 1: 0.
  GpuHardware gpu = test_gpu();
  gpu.l1_bytes = 128;
  gpu.l1_assoc = 1;
  Kernel k("interleave", 2);
  k.ins(0, "EXIT", {});
  k.mem(0, "LDG", {1000}).mem(0, "LDG", {2000});
  k.mem(1, "LDG", {1000}).mem(1, "LDG", {2000});
  EXPECT_DOUBLE_EQ(predict_kernel(k.k, gpu).memory.l1_read_hit, 0.5);
}

TEST(GpuModel, BlocksGoToSmsRoundRobin) {
  // 2 SMs, 4 blocks: blocks 0 and 2 read line X, blocks 1 and 3 line Y. Round-robin (block b on SM b mod 2)
  // puts X, X on SM 0 and Y, Y on SM 1: each second access hits, 1/2. Contiguous halves would give X, Y on
  // each SM: 0.
  GpuHardware gpu = test_gpu();
  gpu.sms = 2;
  Kernel k("round-robin", 4);
  k.ins(0, "EXIT", {});
  k.mem(0, "LDG", {1000}).mem(1, "LDG", {2000}).mem(2, "LDG", {1000}).mem(3, "LDG", {2000});
  const KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(p.memory.l1_read_hit, 0.5);
  // L2 interleaves the SMs one instruction at a time: X (SM 0), Y (SM 1), X, Y: cold, cold, 1, 1 -> 1/2.
  EXPECT_DOUBLE_EQ(p.memory.l2_hit, 0.5);
  EXPECT_EQ(p.blocks_on_busiest_sm, 2);
}

TEST(GpuModel, PptAveragesSmRatesWhereTheModelWeighsTransactions) {
  // SM 0 (block 0) reads X twice: 1 hit of 2; SM 1 (block 1) reads Y once: 0 of 1. The model's L1 read hit
  // rate is 1/3 (hits over transactions); PPT-GPU's is the mean of the SMs' rates, (1/2 + 0) / 2 = 1/4
  // (every distance here is 0 or cold, where both formulas agree).
  GpuHardware gpu = test_gpu();
  gpu.sms = 2;
  Kernel k("ppt-mean", 2);
  k.ins(0, "EXIT", {});
  k.mem(0, "LDG", {1000}).mem(0, "LDG", {1000}).mem(1, "LDG", {2000});
  const KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(p.memory.l1_read_hit, 1.0 / 3);
  EXPECT_DOUBLE_EQ(p.memory.ppt_l1_read_hit, 0.25);
  EXPECT_DOUBLE_EQ(p.memory.ppt_l1_hit, 0.25);
}

TEST(GpuModel, BandwidthBoundKernel) {
  // 32 B lines; one load of 32 cold sectors: 32 DRAM transactions of 32 B = 1024 B. At 1 GB/s and 1 GHz that
  // is 1024 cycles of DRAM; the NoC at 2 GB/s carries the 32 L2 reads in 512. Issue: EXIT at 100, end 101.
  GpuHardware gpu = test_gpu();
  gpu.l1_line = 32;
  gpu.l2_line = 32;
  gpu.dram_bandwidth = 1e9;
  gpu.noc_bandwidth = 2e9;
  Kernel k("dram-bound");
  k.ins(0, "EXIT", {});
  k.mem(0, "LDG", strided(0));
  const KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(p.memory.dram_transactions, 32);
  EXPECT_DOUBLE_EQ(p.issue_cycles, 101);
  EXPECT_DOUBLE_EQ(p.dram_cycles, 1024);
  EXPECT_DOUBLE_EQ(p.noc_cycles, 512);
  EXPECT_DOUBLE_EQ(p.cycles, 1024);
  EXPECT_EQ(p.bound, "dram");
  EXPECT_DOUBLE_EQ(p.seconds, 1024e-9);
  // A NoC at 0.5 GB/s takes 2048 cycles and binds instead.
  gpu.noc_bandwidth = 0.5e9;
  const KernelPrediction q = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(q.cycles, 2048);
  EXPECT_EQ(q.bound, "noc");
}

TEST(GpuModel, DramQueueingLengthensLoads) {
  // 32 cold sectors of 32 B through one DRAM channel at 1 GB/s (1 B per cycle at 1 GHz): 1024 cycles of DRAM
  // time, a service time of 32 cycles per transaction. The first pass (load latency 500) ends at
  // 100 + 500 + 1 = 601, within the 1024 the DRAM needs: utilisation min(0.95, 1024 / 1024) = 0.95, a wait of
  // 0.95 / (2 x 0.05) x 32 = 304 cycles, a load latency of 804, and the second pass ends at 905; the DRAM
  // still sets the elapsed time, so the latency settles there. The NoC (no bandwidth given) adds nothing.
  GpuHardware gpu = test_gpu();
  gpu.l1_line = 32;
  gpu.l2_line = 32;
  gpu.dram_bandwidth = 1e9;
  gpu.dram_channels = 1;
  gpu.noc_bandwidth = 0;
  Kernel k("queued");
  k.ins(0, "LDG.E", {r(1), r(2)}).ins(0, "IADD", {r(3), r(1)});
  k.mem(0, "LDG.E", strided(0));
  const KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_DOUBLE_EQ(p.dram_cycles, 1024);
  EXPECT_NEAR(p.memory.dram_queue, 304, 1e-9);
  EXPECT_DOUBLE_EQ(p.memory.noc_queue, 0);
  EXPECT_NEAR(p.memory.load_latency, 804, 1e-9);
  EXPECT_NEAR(p.issue_cycles, 905, 1e-9);
  EXPECT_DOUBLE_EQ(p.cycles, 1024);
}

// ---- 6. Occupancy plumbing, waves and extrapolation ----

TEST(GpuModel, ResidentBlocksAreOccupancyCappedByBlocksPerSm) {
  GpuHardware gpu = test_gpu();
  gpu.sms = 2;
  // 128 threads = 4 warps: occupancy min(32 block slots, 64 / 4 warps) = 16 blocks; 5 blocks on 2 SMs put
  // ceil(5 / 2) = 3 on the busiest; it holds all 3 at once.
  Kernel k("resident", 5, 128);
  k.ins(0, "EXIT", {});
  KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_EQ(p.occupancy.active_blocks, 16);
  EXPECT_EQ(p.blocks_on_busiest_sm, 3);
  EXPECT_EQ(p.resident_blocks, 3);
  // 40 KiB of shared memory per block in a 64 KiB SM: one block at a time.
  k.k.shared_bytes = 40 * 1024;
  p = predict_kernel(k.k, gpu);
  EXPECT_EQ(p.occupancy.active_blocks, 1);
  EXPECT_EQ(p.resident_blocks, 1);
}

TEST(GpuModel, BlocksBeyondResidencyRunInWaves) {
  // One block: the 10-IADD chain, 137 cycles (100 launch + 36 + 1).
  Kernel k("waves", 3);
  k.chain(0, 10);
  k.k.shared_bytes = 40 * 1024;  // one resident block
  // Three blocks one after another: each next one launches the cycle after the last ends, and pays the launch
  // overhead again: 3 * 137 = 411.
  KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_EQ(p.resident_blocks, 1);
  EXPECT_DOUBLE_EQ(p.issue_cycles, 3 * 137);
  // 30 KiB: two resident (64 / 30). Blocks 0 and 1 run side by side on schedulers 0 and 1 (0..137), block 2
  // follows in the first freed slot: 2 * 137 = 274.
  k.k.shared_bytes = 30 * 1024;
  p = predict_kernel(k.k, test_gpu());
  EXPECT_EQ(p.resident_blocks, 2);
  EXPECT_DOUBLE_EQ(p.issue_cycles, 2 * 137);
  EXPECT_EQ(p.warp_instructions, 30);
}

TEST(GpuModel, ExtrapolatesPastTheSimulationCap) {
  // 2000 one-warp blocks of 10000 independent IADDs on one SM: 2e7 warp instructions, past the cap of 4e6, so
  // the model simulates 4e6 / 1e4 = 400 blocks and extrapolates. 4 blocks are resident (one warp each, on
  // the 4 schedulers), so blocks run in waves of 4, each 100 + 10000 = 10100 cycles; 2000 / 4 = 500 waves:
  // 500 * 10100 = 5,050,000 cycles. (For this steady workload the extrapolation is exact: the second half
  // of the 400 simulated blocks, 200 blocks in 50 waves, gives a rate of 10100 / 4 per block.)
  GpuHardware gpu = test_gpu();
  gpu.limits.max_blocks_sm = 4;
  Kernel k("long", 2000);
  k.independent(0, 10000);
  const KernelPrediction p = predict_kernel(k.k, gpu);
  EXPECT_EQ(p.resident_blocks, 4);
  EXPECT_EQ(p.warp_instructions, 20'000'000);
  const double expected = 500.0 * 10100;
  EXPECT_NEAR(p.issue_cycles, expected, 0.01 * expected);
  // Issued instructions are scaled with the cycles: all 2e7 over 5,050,000 cycles.
  EXPECT_NEAR(p.ipc, 2e7 / expected, 0.01 * 2e7 / expected);
  // The same per-block cost as a kernel small enough to simulate whole (one wave of 4: 10100 cycles).
  Kernel one("long", 4);
  one.independent(0, 10000);
  const double wave = predict_kernel(one.k, gpu).issue_cycles;
  EXPECT_DOUBLE_EQ(wave, 10100);
  EXPECT_NEAR(p.issue_cycles, 500 * wave, 0.01 * 500 * wave);
}

// ---- 8. Achieved occupancy ----

TEST(GpuModel, AchievedOccupancyOfOneBlockWhileItRuns) {
  // One block of 4 warps, each the 10-IADD chain, on 4 schedulers: all 4 resident from 100 to 137, none
  // before (the launch overhead is not an active cycle): 4 warps, 4 / 64 of the SM.
  Kernel k("occupancy", 1, 128);
  for (int w = 0; w < 4; ++w)
    k.chain(w, 10);
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.achieved_warps, 4);
  EXPECT_DOUBLE_EQ(p.achieved_occupancy, 4.0 / 64);
}

TEST(GpuModel, AchievedOccupancyIsTimeAveraged) {
  // Warp 0: the 10-IADD chain (100..136); warps 1-3: one IADD each at 100. Active cycles 100..136 = 37; warps
  // resident: 4 in cycle 100, 1 in the 36 after: (4 + 36) / 37.
  Kernel k("occupancy-avg", 1, 128);
  k.chain(0, 10);
  for (int w = 1; w < 4; ++w)
    k.ins(w, "IADD", {r(1), r(0)});
  const KernelPrediction p = predict_kernel(k.k, test_gpu());
  EXPECT_DOUBLE_EQ(p.issue_cycles, 137);
  EXPECT_DOUBLE_EQ(p.achieved_warps, 40.0 / 37);
  EXPECT_DOUBLE_EQ(p.achieved_occupancy, 40.0 / 37 / 64);
}

// ---- 7. Applications and errors ----

TEST(GpuModel, ApplicationSumsKernelsAndWarnsOnceAboutUnknownOpcodes) {
  // Kernel 1: FOO.X (unknown) twice in a chain, modelled as the fallback, int_alu latency 4: 100, 104, end
  // 105. Kernel 2: 10 independent IADDs then the unknown FOO and BAZ.Y, also independent.
  Kernel k1("first");
  k1.ins(0, "FOO.X", {r(1), r(0)}).ins(0, "FOO.X", {r(2), r(1)});
  Kernel k2("second");
  k2.independent(0, 10).ins(0, "FOO", {r(20), r(0)}, -1).ins(0, "BAZ.Y", {r(21), r(0)});
  // Kernel 2: 12 independent instructions (the fallback is int_alu, interval 1): 100..111, end 112.
  k2.k.id = 2;
  TraceApplication app;
  app.dir = "traces/test";
  app.format = "ppt-gpu";
  app.kernels = {k1.k, k2.k};
  app.warnings = {"reader warning"};
  const AppPrediction a = predict_application(app, test_gpu());
  EXPECT_EQ(a.gpu, "TestGPU");
  EXPECT_EQ(a.trace_dir, "traces/test");
  EXPECT_EQ(a.format, "ppt-gpu");
  ASSERT_EQ(a.kernels.size(), 2u);
  EXPECT_DOUBLE_EQ(a.kernels[0].cycles, 105);
  EXPECT_DOUBLE_EQ(a.kernels[1].cycles, 112);
  EXPECT_DOUBLE_EQ(a.seconds, (105 + 112) * 1e-9);
  EXPECT_EQ(a.kernels[0].unknown_opcodes, (std::vector<std::string>{"FOO"}));
  EXPECT_EQ(a.kernels[1].unknown_opcodes, (std::vector<std::string>{"BAZ", "FOO"}));
  EXPECT_EQ(a.warnings,
            (std::vector<std::string>{
                "reader warning",
                "testarch ISA table (isa/testarch.yaml) does not know BAZ, FOO: modelled as int_alu "
                "with latency 4"}));
}

TEST(GpuModel, KernelThatCannotLaunchIsAnInputErrorNamingIt) {
  // 2048 threads per block against a limit of 1024.
  Kernel k("too_wide_kernel", 1, 2048);
  k.ins(0, "EXIT", {});
  const GpuHardware gpu = test_gpu();
  try {
    predict_kernel(k.k, gpu);
    ADD_FAILURE() << "no exception";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("too_wide_kernel"));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
  }
  TraceApplication app;
  app.kernels = {k.k};
  try {
    predict_application(app, gpu);
    ADD_FAILURE() << "no exception";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("too_wide_kernel"));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
  }
}
