// GPU micro-architecture for the kernel model: per-SM units, caches, latencies, compute-capability limits and
// the ISA table, read from the catalog's GPU file (its `microarchitecture:` section) and
// models/isa/<arch>.yaml.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace whatif::gpu {

// Execution unit classes of an SM.
enum class Unit : std::uint8_t { int_alu, fp32, fp64, sfu, tensor, ldst, branch, tex };
constexpr int kUnits = 8;
std::string_view to_string(Unit u);

// What an instruction does, as far as the model cares.
enum class OpKind : std::uint8_t {
  alu,            // register-to-register work on its unit
  global_load,    // LDG, and generic LD
  global_store,   // STG, generic ST
  local_load,     // LDL
  local_store,    // STL
  shared_load,    // LDS, LDSM
  shared_store,   // STS
  shared_async,   // LDGSTS: global load into shared memory
  constant_load,  // LDC, ULDC
  texture,        // TEX, TLD, ...
  atomic,         // ATOM, ATOMG, RED (global); ATOMS (shared)
  barrier,        // BAR.SYNC and friends: synchronises the block's warps
  memory_fence,   // MEMBAR, FENCE: orders memory, does not synchronise warps
  branch,         // BRA, JMP, CALL, RET, SYNC, BSSY, BSYNC, ...
  exit,           // EXIT
};
std::string_view to_string(OpKind k);

struct IsaEntry {
  Unit unit = Unit::int_alu;
  OpKind kind = OpKind::alu;
  int latency = 0;  // cycles from issue to result for ALU work; memory kinds take theirs from the hierarchy
};

// One architecture's ISA table: base mnemonic (the text before the first '.') -> class and latency.
struct Isa {
  std::string architecture, file;
  // Latency class -> cycles (the GPU's own where it has them).
  std::map<std::string, int, std::less<>> classes;
  std::map<std::string, IsaEntry, std::less<>> opcodes;
  IsaEntry fallback;  // for opcodes the table does not know (reported as a warning, never fatal)

  // The entry of a full mnemonic ("LDG.E.U8" -> "LDG"); `known` says whether the table had it.
  IsaEntry classify(std::string_view opcode, bool* known = nullptr) const;
};

struct Latencies {  // cycles
  int dram = 0, l1 = 0, l2 = 0, shared = 0, constant = 0, local = 0, texture = 0, atomic = 0;
  int block_launch = 0;  // thread-block launch overhead
};

struct ComputeLimits {  // per compute capability
  int warp_size = 32;
  int max_threads_block = 0, max_threads_sm = 0, max_blocks_sm = 0, max_warps_sm = 0;
  int registers_sm = 0, max_registers_block = 0, max_registers_thread = 0;
  int register_unit = 256;  // registers are allocated per warp in units of this many
  int shared_unit = 256;    // shared memory is allocated per block in units of this many bytes
  long max_shared_block = 0, shared_sm = 0;  // bytes
};

struct GpuHardware {
  std::string name, architecture, file;  // the catalog GPU and its file
  int cc_major = 0, cc_minor = 0;
  double clock_hz = 0;  // the clock cycles are counted at
  int sms = 0;
  std::array<int, kUnits> units{};  // per SM, indexed by Unit
  int schedulers = 0;               // warp schedulers per SM
  int dispatch = 1;                 // instructions one scheduler issues per cycle
  // Memory hierarchy.
  long l1_bytes = 0, l1_line = 0, l1_sector = 32;
  int l1_assoc = 0;
  bool l1_caches_global_loads = true;  // false: global loads bypass L1 (e.g. GP104 Pascal by default)
  long l2_bytes = 0, l2_line = 0;
  int l2_assoc = 0, l2_partitions = 0, dram_channels = 0;
  double dram_bandwidth = 0, noc_bandwidth = 0;  // B/s
  Latencies latency;
  // Per-GPU latencies of ISA classes (microarchitecture.instruction_latency, e.g. measured by `whatif
  // calibrate`): they replace the architecture's ISA file values for this GPU.
  std::map<std::string, int, std::less<>> class_latency;
  ComputeLimits limits;
  Isa isa;
};

// The hardware of catalog GPU `gpu_name` from models_dir/gpus/*.yaml and models_dir/isa/<architecture>.yaml.
// Throws core::InputError naming the file, line and field when the GPU, its microarchitecture section or
// its ISA file is missing or malformed.
GpuHardware load_gpu_hardware(const std::string& models_dir, const std::string& gpu_name);

}  // namespace whatif::gpu
