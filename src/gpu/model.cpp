// The kernel model: PPT-GPU's hybrid approach (reuse-distance memory model, SM issue model over the traced
// warps), with its documented defects corrected; every departure is said where it is made.
#include "gpu/model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "core/diagnostics.hpp"
#include "gpu/cache.hpp"
#include "gpu/stack_distance.hpp"

namespace whatif::gpu {

std::string_view to_string(Stall s) {
  switch (s) {
    case Stall::issued:
      return "issued";
    case Stall::idle:
      return "idle";
    case Stall::memory:
      return "memory dependency";
    case Stall::execution:
      return "execution dependency";
    case Stall::pipe_busy:
      return "pipe busy";
    case Stall::barrier:
      return "barrier";
    case Stall::memory_fence:
      return "memory fence";
  }
  return "?";
}

namespace {

constexpr int kMaxDst = 4, kMaxSrc = 8;
constexpr int kRegSlots = 1024;  // R, P, UR, UP spaces of trace.hpp's Reg
// The issue model simulates at most this many warp instructions on the busiest SM, then extrapolates from the
// steady rate of the blocks simulated (see simulate_sm).
constexpr long kMaxSimulatedInstructions = 4'000'000;

struct Decoded {
  OpKind kind = OpKind::alu;
  Unit unit = Unit::int_alu;
  int latency = 1;
  std::array<Reg, kMaxDst> dst{};
  std::array<Reg, kMaxSrc> src{};
  std::uint8_t ndst = 0, nsrc = 0;
  int lanes = 32;
};

bool ignored_register(Reg r) {
  return r == kZeroReg || r == kTruePred || r < 0 || r >= kRegSlots;
}

bool is_load(OpKind k) {
  return k == OpKind::global_load || k == OpKind::local_load || k == OpKind::shared_async;
}
bool is_store(OpKind k) {
  return k == OpKind::global_store || k == OpKind::local_store;
}

// Memory-kind opcodes whose first operand is not a destination in a PPT-GPU line: stores (address first),
// reductions (RED has no result), control flow and synchronisation.
bool all_sources(OpKind k, std::string_view opcode) {
  return is_store(k) || k == OpKind::shared_store || k == OpKind::branch || k == OpKind::barrier ||
         k == OpKind::memory_fence || k == OpKind::exit || opcode.starts_with("RED");
}

int lanes_of(std::uint32_t mask) {
  return std::popcount(mask);
}

double l1_transactions_total(const MemoryStats& m) {
  return static_cast<double>(m.read_transactions + m.write_transactions + m.atomic_transactions);
}

// Per-kernel constants the issue model needs.
struct IssueInput {
  std::vector<std::vector<Decoded>> warps;  // the traced block's instruction stream per warp
  long blocks = 0;                          // blocks on the simulated SM
  int resident = 0;                         // blocks it holds at once
  double load_latency = 0;                  // cycles, global loads
};

struct IssueResult {
  double cycles = 0;
  long issued = 0;
  double warp_cycles = 0;    // sum over cycles of resident warps
  double active_cycles = 0;  // cycles with at least one resident warp
  std::array<double, kStalls> stalls{};
};

// One SM running its blocks: `resident` at a time, each new block launched when one finishes, after the
// launch overhead. Each cycle every scheduler issues up to `dispatch` instructions from its warps,
// oldest-ready first in loose round-robin, in order within a warp; an instruction waits for its source
// registers (read-after-write), a free slot of its unit in the scheduler's partition, and (MEMBAR) the warp's
// outstanding memory operations. BAR waits for every unfinished warp of the block: PPT-GPU matches "BAR" as
// a substring and so also treats MEMBAR as a barrier; here a fence only waits for the warp's own memory.
// Cycles in which no warp can issue are skipped in one step and charged to the reason that held each
// scheduler's nearest-ready warp. Every block of the SM runs (up to kMaxSimulatedInstructions, then the rest
// at the measured steady rate): PPT-GPU simulates one wave and scales it by ceil((B_sm - B_new) / B_new),
// one wave short, and a last partial wave counts as a full one only where it really is.
IssueResult simulate_sm(const IssueInput& in, const GpuHardware& gpu) {
  IssueResult out;
  const int w_per_block = static_cast<int>(in.warps.size());
  const int slots = std::max(1, in.resident);
  const int schedulers = std::max(1, gpu.schedulers);
  const int warps = slots * w_per_block;
  long per_block = 0;
  for (const auto& w : in.warps)
    per_block += static_cast<long>(w.size());
  long simulate_blocks = in.blocks;
  if (per_block > 0 && in.blocks * per_block > kMaxSimulatedInstructions)
    simulate_blocks = std::max<long>(2L * slots, kMaxSimulatedInstructions / per_block);
  simulate_blocks = std::min(simulate_blocks, in.blocks);
  if (w_per_block == 0 || simulate_blocks == 0) return out;

  struct Warp {
    std::size_t pc = 0;
    double ready_at = 0;     // earliest issue of its next instruction (in-order issue, branch resolution)
    double memory_done = 0;  // when its outstanding memory operations complete (for MEMBAR)
    bool done = true, at_barrier = false;
  };
  struct Slot {
    long block = -1;
    double launch_at = 0;
    int finished = 0, waiting = 0;
  };
  std::vector<Warp> ws(warps);
  std::vector<std::array<double, kRegSlots>> reg_ready(warps);
  std::vector<std::array<bool, kRegSlots>> reg_from_memory(warps);
  std::vector<Slot> slot(slots);
  std::vector<std::array<double, kUnits>> unit_free(schedulers);
  for (auto& u : unit_free)
    u.fill(0);
  std::vector<int> rr(schedulers, 0);
  std::vector<double> block_done;  // completion time of each block, in completion order
  long next_block = 0;
  auto launch = [&](int k, double at) {
    slot[k] = {next_block++, at + gpu.latency.block_launch, 0, 0};
    for (int j = 0; j < w_per_block; ++j) {
      Warp& w = ws[k * w_per_block + j];
      w = {0, slot[k].launch_at, 0, in.warps[j].empty(), false};
      reg_ready[k * w_per_block + j].fill(0);
      reg_from_memory[k * w_per_block + j].fill(false);
      if (w.done) ++slot[k].finished;
    }
  };
  for (int k = 0; k < slots && next_block < simulate_blocks; ++k)
    launch(k, 0);
  int interval[kUnits];
  for (int u = 0; u < kUnits; ++u) {
    int lanes = std::max(1, gpu.units[u] / schedulers);
    interval[u] = std::max(1, (std::max(1, gpu.limits.warp_size) + lanes - 1) / lanes);
  }

  double cycle = 0;
  const double inf = std::numeric_limits<double>::infinity();
  auto release_if_ready = [&](int k, double now) {
    Slot& s = slot[k];
    if (s.waiting > 0 && s.waiting + s.finished == w_per_block) {
      for (int j = 0; j < w_per_block; ++j) {
        Warp& w = ws[k * w_per_block + j];
        if (w.at_barrier) w.at_barrier = false, w.ready_at = std::max(w.ready_at, now + 1);
      }
      s.waiting = 0;
    }
  };
  std::vector<Stall> reason(schedulers);  // per scheduler, this cycle
  while (true) {
    bool any_resident = false;
    for (int k = 0; k < slots; ++k)
      any_resident |= slot[k].block >= 0;
    if (!any_resident) break;
    bool issued_any = false;
    double next_event = inf;
    std::fill(reason.begin(), reason.end(), Stall::idle);
    int resident_warps = 0;
    for (int k = 0; k < slots; ++k)
      if (slot[k].block >= 0 && slot[k].launch_at <= cycle) resident_warps += w_per_block - slot[k].finished;
    for (int s = 0; s < schedulers; ++s) {
      int issued = 0;
      double best = inf;
      const int mine = (warps + schedulers - 1 - s) / schedulers;  // warps s, s + S, s + 2S, ...
      for (int step = 0; step < mine && issued < gpu.dispatch; ++step) {
        int idx = s + schedulers * ((rr[s] + step) % mine);
        if (idx >= warps) continue;
        int k = idx / w_per_block, j = idx % w_per_block;
        Warp& w = ws[idx];
        if (slot[k].block < 0 || w.done) continue;
        if (slot[k].launch_at > cycle) {
          next_event = std::min(next_event, slot[k].launch_at);
          continue;
        }
        if (w.at_barrier) {
          if (best == inf) reason[s] = Stall::barrier;
          continue;
        }
        const Decoded& d = in.warps[j][w.pc];
        double t = w.ready_at;
        Stall why = Stall::execution;
        for (int r = 0; r < d.nsrc; ++r)
          if (reg_ready[idx][d.src[r]] > t) {
            t = reg_ready[idx][d.src[r]];
            why = reg_from_memory[idx][d.src[r]] ? Stall::memory : Stall::execution;
          }
        if (d.kind == OpKind::memory_fence && w.memory_done > t) t = w.memory_done, why = Stall::memory_fence;
        const int u = static_cast<int>(d.unit);
        if (unit_free[s][u] > t) t = unit_free[s][u], why = Stall::pipe_busy;
        if (t > cycle) {
          if (t < best) best = t, reason[s] = why;
          next_event = std::min(next_event, t);
          continue;
        }
        // Issue.
        ++issued;
        ++out.issued;
        unit_free[s][u] = cycle + interval[u];
        w.ready_at = cycle + 1;
        double latency = d.latency;
        switch (d.kind) {
          case OpKind::global_load:
          case OpKind::shared_async:
            latency = in.load_latency;
            break;
          case OpKind::local_load:
            latency = gpu.latency.local;
            break;
          case OpKind::shared_load:
            latency = gpu.latency.shared;
            break;
          case OpKind::constant_load:
            latency = gpu.latency.constant;
            break;
          case OpKind::texture:
            latency = gpu.latency.texture;
            break;
          case OpKind::atomic:
            latency = gpu.latency.atomic;
            w.ready_at = cycle + latency;  // atomics hold the warp until they return
            break;
          case OpKind::branch:
            w.ready_at = cycle + std::max(1, d.latency);
            break;
          default:
            break;
        }
        const bool memory = d.kind != OpKind::alu && d.kind != OpKind::branch && d.kind != OpKind::exit &&
                            d.kind != OpKind::barrier && d.kind != OpKind::memory_fence;
        if (memory) w.memory_done = std::max(w.memory_done, cycle + latency);
        for (int r = 0; r < d.ndst; ++r) {
          reg_ready[idx][d.dst[r]] = cycle + latency;
          reg_from_memory[idx][d.dst[r]] = memory;
        }
        ++w.pc;
        if (d.kind == OpKind::barrier) {
          w.at_barrier = true;
          ++slot[k].waiting;
        }
        // A warp ends with its trace: PPT-GPU's traces keep predicated-off instructions, so an EXIT that the
        // trace continues after was not taken.
        if (w.pc == in.warps[j].size()) {
          w.done = true;
          if (w.at_barrier) w.at_barrier = false, --slot[k].waiting;
          ++slot[k].finished;
        }
        release_if_ready(k, cycle);
        if (slot[k].finished == w_per_block) {
          // The block is done when the last of its warps' memory operations is.
          double end = cycle + 1;
          for (int x = 0; x < w_per_block; ++x)
            end = std::max(end, ws[k * w_per_block + x].memory_done);
          block_done.push_back(end);
          slot[k].block = -1;
          if (next_block < simulate_blocks) launch(k, end);
        }
      }
      rr[s] = (rr[s] + 1) % std::max(1, mine);
      if (issued > 0) {
        issued_any = true;
        out.stalls[static_cast<int>(Stall::issued)] += 1;
      } else {
        out.stalls[static_cast<int>(reason[s])] += 1;
      }
    }
    double advance = 1;
    if (!issued_any && next_event < inf && next_event > cycle + 1) {
      advance = next_event - cycle;
      for (int s = 0; s < schedulers; ++s)
        out.stalls[static_cast<int>(reason[s])] += advance - 1;
    }
    out.warp_cycles += resident_warps * advance;
    if (resident_warps > 0) out.active_cycles += advance;
    cycle += advance;
  }
  double end =
      block_done.empty() ? cycle : std::max(cycle, *std::max_element(block_done.begin(), block_done.end()));
  out.cycles = end;
  if (simulate_blocks < in.blocks) {
    // Extrapolate at the rate of the second half of the simulated blocks (after the first wave's ramp-up).
    std::sort(block_done.begin(), block_done.end());
    const long half = simulate_blocks / 2;
    const double rate =
        (block_done.back() - block_done[half - 1]) / static_cast<double>(simulate_blocks - half);
    const double extra = rate * static_cast<double>(in.blocks - simulate_blocks);
    const double scale = (end + extra) / end;
    out.cycles = end + extra;
    out.warp_cycles *= scale;
    out.active_cycles *= scale;
    out.issued = static_cast<long>(std::llround(out.issued * scale));
    for (auto& v : out.stalls)
      v *= scale;
  }
  return out;
}

}  // namespace

KernelPrediction predict_kernel(const KernelTrace& kernel, const GpuHardware& gpu) {
  KernelPrediction p;
  p.id = kernel.id;
  p.name = kernel.name;
  p.blocks = kernel.grid.count();
  p.threads_per_block = kernel.block.count();
  p.registers = kernel.registers;
  p.shared_bytes = kernel.shared_bytes;
  try {
    p.occupancy =
        compute_occupancy(gpu.limits, gpu.schedulers, p.threads_per_block, p.registers, p.shared_bytes);
  } catch (const std::invalid_argument& e) {
    throw core::InputError(
        fmt::format("kernel {} ({}) cannot run on {}: {}", kernel.id, kernel.name, gpu.name, e.what()));
  }
  p.blocks_on_busiest_sm = (p.blocks + gpu.sms - 1) / gpu.sms;
  p.resident_blocks = static_cast<int>(std::min<long>(p.occupancy.active_blocks, p.blocks_on_busiest_sm));

  // Classify the opcode table once.
  std::vector<IsaEntry> entry(kernel.opcodes.size());
  std::set<std::string> unknown;
  for (std::size_t i = 0; i < kernel.opcodes.size(); ++i) {
    bool known = true;
    entry[i] = gpu.isa.classify(kernel.opcodes[i], &known);
    if (!known) unknown.insert(kernel.opcodes[i].substr(0, kernel.opcodes[i].find('.')));
  }
  p.unknown_opcodes.assign(unknown.begin(), unknown.end());

  // Memory: blocks go to SMs round-robin; each SM's blocks are interleaved one memory instruction at a time;
  // each instruction is coalesced into distinct L1 lines; L1 reuse distances per SM, L2 reuse distances over
  // every SM's transactions interleaved one instruction at a time.
  const int l1_shift = std::countr_zero(static_cast<unsigned long>(std::max(32L, gpu.l1_line) / 32));
  const long l1_blocks = std::max(1L, gpu.l1_bytes / std::max(1L, gpu.l1_line));
  // The L2 is sectored: it is looked up, and its hits counted, per 32-byte sector (as NVIDIA's profilers
  // count L2 hits), whatever its line size; PPT-GPU's L2 figures are per 32-byte access too.
  const long l2_blocks = std::max(1L, gpu.l2_bytes / 32);
  // Each SM's memory instructions in the order its L1 sees them, for the L2's interleaving.
  std::vector<std::vector<const std::uint64_t*>> sm_stream(gpu.sms);
  std::vector<std::vector<std::uint32_t>> sm_counts(gpu.sms);
  std::vector<std::vector<const BlockMemory*>> sm_blocks(gpu.sms);
  for (const auto& b : kernel.memory)
    sm_blocks[static_cast<std::size_t>(b.block % gpu.sms)].push_back(&b);
  MemoryStats& m = p.memory;
  double l1_hits = 0, l1_read_hits = 0, ppt_l1 = 0, ppt_l1_read = 0, mean_l1 = 0, mean_l1_read = 0;
  int active_sms = 0;
  std::vector<std::uint64_t> coalesced;
  long sectors = 0;  // distinct 32-byte sectors of each instruction, summed
  for (int s = 0; s < gpu.sms; ++s) {
    const auto& blocks = sm_blocks[s];
    if (blocks.empty()) continue;
    StackDistance l1;
    ReuseProfile all, reads, others;
    std::size_t longest = 0;
    for (const auto* b : blocks)
      longest = std::max(longest, b->records.size());
    for (std::size_t i = 0; i < longest; ++i)
      for (const auto* b : blocks) {
        if (i >= b->records.size()) continue;
        const MemoryRecord& r = b->records[i];
        const OpKind kind = r.opcode < entry.size() ? entry[r.opcode].kind : OpKind::global_load;
        coalesced.clear();
        for (std::uint32_t x = r.first; x < r.first + r.count && x < b->sectors.size(); ++x) {
          std::uint64_t line = b->sectors[x] >> l1_shift;
          if (std::find(coalesced.begin(), coalesced.end(), line) == coalesced.end())
            coalesced.push_back(line);
        }
        const bool read = is_load(kind);
        const bool atomic = kind == OpKind::atomic;
        long& requests = atomic ? m.atomic_requests : read ? m.read_requests : m.write_requests;
        long& transactions = atomic ? m.atomic_transactions
                             : read ? m.read_transactions
                                    : m.write_transactions;
        ++requests;
        transactions += static_cast<long>(coalesced.size());
        sectors += r.count;
        if (r.first < b->sectors.size()) {
          sm_stream[s].push_back(b->sectors.data() + r.first);
          sm_counts[s].push_back(std::min<std::uint32_t>(r.count, b->sectors.size() - r.first));
        }
        for (std::uint64_t line : coalesced) {
          std::uint64_t d = l1.access(line);
          all.add(d);
          (read ? reads : others).add(d);
        }
      }
    // Where L1 does not cache global loads, only the other accesses can hit it.
    const ReuseProfile& cached = gpu.l1_caches_global_loads ? all : others;
    l1_hits += hit_rate(cached, l1_blocks, gpu.l1_assoc) * static_cast<double>(cached.total);
    if (gpu.l1_caches_global_loads)
      l1_read_hits += hit_rate(reads, l1_blocks, gpu.l1_assoc) * static_cast<double>(reads.total);
    ppt_l1 += ppt_gpu_hit_rate(all, l1_blocks, gpu.l1_assoc);
    mean_l1 += hit_rate(all, l1_blocks, gpu.l1_assoc);
    mean_l1_read += hit_rate(reads, l1_blocks, gpu.l1_assoc);
    ppt_l1_read += ppt_gpu_hit_rate(reads, l1_blocks, gpu.l1_assoc);
    ++active_sms;
  }
  if (active_sms > 0) {
    m.ppt_l1_hit = ppt_l1 / active_sms, m.ppt_l1_read_hit = ppt_l1_read / active_sms;
    m.sm_mean_l1_hit = mean_l1 / active_sms, m.sm_mean_l1_read_hit = mean_l1_read / active_sms;
  }
  const double sectors_per_transaction =
      l1_transactions_total(m) > 0 ? static_cast<double>(sectors) / l1_transactions_total(m) : 1.0;
  const double l1_accesses = l1_transactions_total(m);
  m.l1_hit = l1_accesses > 0 ? l1_hits / l1_accesses : 0;
  m.l1_read_hit = m.read_transactions > 0 ? l1_read_hits / static_cast<double>(m.read_transactions) : 0;

  StackDistance l2;
  ReuseProfile l2_profile;
  std::vector<std::size_t> cursor(gpu.sms, 0);
  for (bool more = true; more;) {
    more = false;
    for (int s = 0; s < gpu.sms; ++s) {
      if (cursor[s] >= sm_stream[s].size()) continue;
      more = true;
      const std::uint64_t* sectors = sm_stream[s][cursor[s]];
      const std::uint32_t count = sm_counts[s][cursor[s]++];
      for (std::uint32_t x = 0; x < count; ++x)
        l2_profile.add(l2.access(sectors[x]));
    }
  }
  m.l2_hit = hit_rate(l2_profile, l2_blocks, gpu.l2_assoc);
  m.ppt_l2_hit = ppt_gpu_hit_rate(l2_profile, l2_blocks, gpu.l2_assoc);
  m.l2_read_transactions = static_cast<double>(m.read_transactions) * (1 - m.l1_read_hit);
  m.l2_write_transactions = static_cast<double>(m.write_transactions + m.atomic_transactions);
  m.dram_transactions = (m.l2_read_transactions + m.l2_write_transactions) * (1 - m.l2_hit);
  const double l1_lat = gpu.latency.l1, l2_lat = gpu.latency.l2, dram_lat = gpu.latency.dram;
  const double h1 = gpu.l1_caches_global_loads ? m.l1_read_hit : 0;
  m.load_latency = h1 * l1_lat + (1 - h1) * (m.l2_hit * l2_lat + (1 - m.l2_hit) * dram_lat);

  // Compute: the traced block's warps, decoded once.
  IssueInput in;
  in.blocks = p.blocks_on_busiest_sm;
  in.resident = std::max(1, p.resident_blocks);
  in.load_latency = m.load_latency;
  std::vector<int> warp_index;
  long lanes = 0;
  for (const Instruction& ins : kernel.instructions) {
    if (ins.warp < 0) continue;
    if (static_cast<std::size_t>(ins.warp) >= in.warps.size()) in.warps.resize(ins.warp + 1);
    Decoded d;
    const IsaEntry& e = ins.opcode < entry.size() ? entry[ins.opcode] : gpu.isa.fallback;
    d.kind = e.kind;
    d.unit = e.unit;
    d.latency = std::max(1, e.latency);
    d.lanes = lanes_of(ins.active_mask);
    lanes += d.lanes;
    const std::string_view opcode = ins.opcode < kernel.opcodes.size() ? kernel.opcodes[ins.opcode] : "";
    const int n = static_cast<int>(ins.operands.size());
    const int ndst = ins.dst_count >= 0 ? std::min<int>(ins.dst_count, n)
                                        : (all_sources(e.kind, opcode) ? 0 : std::min(1, n));
    for (int i = 0; i < n; ++i) {
      Reg r = ins.operands[i];
      if (ignored_register(r)) continue;
      if (i < ndst) {
        if (d.ndst < kMaxDst) d.dst[d.ndst++] = r;
      } else if (d.nsrc < kMaxSrc) {
        d.src[d.nsrc++] = r;
      }
    }
    in.warps[ins.warp].push_back(d);
  }
  const long per_block = static_cast<long>(kernel.instructions.size());
  p.warp_instructions = per_block * p.blocks;
  p.thread_instructions = lanes * p.blocks;
  // Bandwidth: the whole GPU's DRAM and L2 traffic cannot go faster than the DRAM and the NoC.
  // Caches move 32-byte sectors: a transaction (an L1 line) carries only the sectors its lanes touched.
  const double line = 32.0 * sectors_per_transaction;
  if (gpu.dram_bandwidth > 0) p.dram_cycles = m.dram_transactions * line / gpu.dram_bandwidth * gpu.clock_hz;
  if (gpu.noc_bandwidth > 0)
    p.noc_cycles =
        (m.l2_read_transactions + m.l2_write_transactions) * line / gpu.noc_bandwidth * gpu.clock_hz;
  // Memory-level parallelism is the issue model's: every resident warp keeps its loads in flight. Queueing:
  // at the utilisation a pass implies, a request waits rho / (2 (1 - rho)) service times (M/D/1) at the
  // DRAM channel and the L2 slice it goes to; the next pass runs with those waits in the load latency, until
  // the latency settles.
  const double dram_service = gpu.dram_bandwidth > 0 && gpu.dram_channels > 0
                                  ? line / (gpu.dram_bandwidth / gpu.dram_channels) * gpu.clock_hz
                                  : 0;
  const double noc_service = gpu.noc_bandwidth > 0 && gpu.l2_partitions > 0
                                 ? line / (gpu.noc_bandwidth / gpu.l2_partitions) * gpu.clock_hz
                                 : 0;
  auto wait = [](double busy, double elapsed, double service) {
    const double rho = elapsed > 0 ? std::min(0.95, busy / elapsed) : 0;
    return rho / (2 * (1 - rho)) * service;
  };
  IssueResult r = simulate_sm(in, gpu);
  for (int pass = 0; pass < 4; ++pass) {
    const double elapsed = std::max(r.cycles, std::max(p.dram_cycles, p.noc_cycles));
    m.dram_queue = wait(p.dram_cycles, elapsed, dram_service);
    m.noc_queue = wait(p.noc_cycles, elapsed, noc_service);
    const double latency =
        h1 * l1_lat + (1 - h1) * (m.l2_hit * (l2_lat + m.noc_queue) +
                                  (1 - m.l2_hit) * (dram_lat + m.noc_queue + m.dram_queue));
    if (std::abs(latency - in.load_latency) < 0.5) break;
    in.load_latency = m.load_latency = latency;
    r = simulate_sm(in, gpu);
  }
  p.issue_cycles = r.cycles;
  // Achieved occupancy as Nsight Compute defines it: resident warps averaged over the SM's active cycles.
  p.achieved_warps = r.active_cycles > 0 ? r.warp_cycles / r.active_cycles : 0;
  p.achieved_occupancy = gpu.limits.max_warps_sm > 0 ? p.achieved_warps / gpu.limits.max_warps_sm : 0;
  double slots = 0;
  for (double v : r.stalls)
    slots += v;
  for (int i = 0; i < kStalls; ++i)
    p.stalls[i] = slots > 0 ? r.stalls[i] / slots : 0;

  p.cycles = std::max({p.issue_cycles, p.dram_cycles, p.noc_cycles});
  p.bound = p.cycles == p.issue_cycles ? "issue" : p.cycles == p.dram_cycles ? "dram" : "noc";
  p.ipc = p.issue_cycles > 0 ? static_cast<double>(r.issued) / p.issue_cycles : 0;
  // Time is cycles of the busiest SM at the clock: PPT-GPU multiplies by the SM count as well.
  p.seconds = gpu.clock_hz > 0 ? p.cycles / gpu.clock_hz : 0;
  return p;
}

AppPrediction predict_application(const TraceApplication& app, const GpuHardware& gpu) {
  AppPrediction out;
  out.gpu = gpu.name;
  out.trace_dir = app.dir;
  out.format = app.format;
  out.warnings = app.warnings;
  std::set<std::string> unknown;
  for (const auto& k : app.kernels) {
    out.kernels.push_back(predict_kernel(k, gpu));
    out.seconds += out.kernels.back().seconds;
    unknown.insert(out.kernels.back().unknown_opcodes.begin(), out.kernels.back().unknown_opcodes.end());
  }
  if (!unknown.empty())
    out.warnings.push_back(fmt::format("{} ISA table ({}) does not know {}: modelled as {} with latency {}",
                                       gpu.architecture, gpu.isa.file, fmt::join(unknown, ", "),
                                       to_string(gpu.isa.fallback.unit), gpu.isa.fallback.latency));
  return out;
}

}  // namespace whatif::gpu
