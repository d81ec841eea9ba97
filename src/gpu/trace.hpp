// Kernel traces in memory: what the PPT-GPU and Accel-Sim readers produce and the kernel model consumes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace whatif::gpu {

struct Dim3 {
  long x = 1, y = 1, z = 1;
  long count() const { return x * y * z; }
};

// A register operand: R<n> -> n (0..255, RZ = 255), P<n> -> kPredicate + n (PT = kPredicate + 7),
// UR<n> -> kUniform + n, UP<n> -> kUniformPredicate + n. Immediates and constant-bank operands are not kept.
using Reg = std::int16_t;
constexpr Reg kPredicate = 256, kUniform = 512, kUniformPredicate = 768;
constexpr Reg kZeroReg = 255, kTruePred = kPredicate + 7;

// One executed warp instruction of the traced thread block.
struct Instruction {
  std::uint32_t opcode = 0;                 // index into KernelTrace::opcodes
  std::int32_t warp = 0;                    // warp of the block, renumbered 0.. in order of first appearance
  std::uint64_t pc = 0;                     // Accel-Sim only (0 otherwise)
  std::uint32_t active_mask = 0xffffffffu;  // Accel-Sim only (all lanes otherwise)
  // Operands in trace order. Accel-Sim says which are destinations (dst_count); a PPT-GPU line does not
  // (dst_count = -1): by its tracer's convention the first operand is the destination, except for stores,
  // whose operands are all sources; the model applies that rule with the opcode's class.
  std::vector<Reg> operands;
  std::int8_t dst_count = -1;
};

// One global/local/generic memory instruction of one warp, as the memory trace records it: the active lanes'
// addresses reduced to the distinct 32-byte sectors they touch, in order of first appearance (for every cache
// line size of 32 B or more, distinct lines are the distinct sector >> log2(line / 32)).
struct MemoryRecord {
  std::uint32_t opcode = 0;  // index into KernelTrace::opcodes
  std::int32_t warp = -1;    // when the trace says which warp (Accel-Sim, newer PPT-GPU fork), else -1
  std::uint32_t lanes = 0;   // addresses recorded (active lanes; LDGSTS: both lists)
  std::uint32_t first = 0;   // sectors[first, first + count) in BlockMemory::sectors
  std::uint32_t count = 0;
};

struct BlockMemory {
  long block = 0;  // linear block index z*gy*gx + y*gx + x
  std::vector<MemoryRecord> records;
  std::vector<std::uint64_t> sectors;  // address >> 5
};

struct KernelTrace {
  int id = 0;             // the trace's kernel id (1-based in both formats)
  std::string name;       // as traced (may be mangled; PPT-GPU cuts it at '(')
  Dim3 grid, block;       // PPT-GPU records only the products: {n, 1, 1}
  int registers = 0;      // per thread
  long shared_bytes = 0;  // static + dynamic, per block
  int stream = 0;
  std::vector<std::string> opcodes;       // opcode table: full mnemonics with modifiers ("LDG.E.U8")
  std::vector<Instruction> instructions;  // the traced block's warp instructions, in trace order
  long traced_block = 0;                  // which block `instructions` come from
  int traced_warps = 0;                   // distinct warps among `instructions`
  std::vector<BlockMemory> memory;        // blocks with a memory trace, by increasing block index
  long trace_bytes = 0;                   // bytes of trace files read for this kernel
  std::vector<std::string> files;         // those files
};

struct TraceApplication {
  std::string dir;
  std::string format;                 // "ppt-gpu" or "accel-sim"
  std::vector<KernelTrace> kernels;   // by increasing id
  std::vector<std::string> warnings;  // non-fatal problems, each naming its file and line
};

// Reads a trace folder: PPT-GPU (app_config.py, sass_traces/, memory_traces/) or Accel-Sim (kernelslist.g and
// its kernel-*.traceg or .traceg.xz files); the format is told from the files present. `kernel_ids` selects
// kernels (empty: all). Large files are streamed line by line. A malformed line throws core::InputError
// "FILE:LINE: error: ..."; a missing folder or file throws it naming the path.
TraceApplication read_trace_dir(const std::string& dir, const std::vector<int>& kernel_ids = {});

}  // namespace whatif::gpu
