// GPU trace readers: PPT-GPU (both memory layouts) and Accel-Sim (plain and .xz) folders, malformed inputs
// and the shipped Rodinia BFS traces.
#include "core/diagnostics.hpp"
#include "gpu/trace.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;
using whatif::core::InputError;
using namespace whatif::gpu;

// S is the sector of 0x7f0000000000, the base of the hand-written traces' addresses.
constexpr std::uint64_t S = 0x7f0000000000ull >> 5;

std::vector<std::uint64_t> sectors_of(const BlockMemory& bm, const MemoryRecord& r) {
  return {bm.sectors.begin() + r.first, bm.sectors.begin() + r.first + r.count};
}

const std::string& opcode_of(const KernelTrace& k, std::uint32_t i) {
  return k.opcodes.at(i);
}

// The message of the InputError `f` throws ("" and a test failure when it throws none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError thrown";
  return "";
}

// A scratch folder for malformed inputs, written file by file.
class Scratch {
 public:
  explicit Scratch(const std::string& name) {
    dir_ =
        (fs::temp_directory_path() / ("whatif-gpu-trace-test-" + std::to_string(::getpid())) / name).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::remove(fs::path(dir_).parent_path(), ec);  // only once empty: other scratch folders may remain
  }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& rel) const { return (fs::path(dir_) / rel).string(); }
  void write(const std::string& rel, const std::string& text) const {
    fs::create_directories(fs::path(path(rel)).parent_path());
    std::ofstream(path(rel), std::ios::binary) << text;
  }

 private:
  std::string dir_;
};

// A minimal valid PPT-GPU folder with kernel 1, whose files a test then spoils.
void write_ppt(const Scratch& s) {
  s.write(
      "app_config.py",
      "kernel_1 = {\n\t\"kernel_name\"\t: \"k\",\n\t\"num_registers\"\t: 8,\n\t\"shared_mem_bytes\"\t: 0,\n"
      "\t\"grid_size\"\t: 1,\n\t\"block_size\"\t: 32,\n\t\"cuda_stream_id\"\t: 0\n}\napp_kernels_id = [1]");
  s.write("sass_traces/kernel_1.sass", "0 MOV R1 \n0 EXIT \n");
  s.write("memory_traces/kernel_1_block_0.mem", "\n=====\nLDG.E 0x7f0000000000 ");
}

const char* kAccelSimHeader =
    "-kernel name = k\n-kernel id = 1\n-grid dim = (1,1,1)\n-block dim = (32,1,1)\n-shmem = 0\n-nregs = 8\n"
    "-cuda stream id = 0\n\n#traces format = PC mask dest_num [reg_dests] opcode src_num [reg_srcs] "
    "mem_width "
    "[adrrescompress?] [mem_addresses]\n\n";

// An Accel-Sim folder with kernel 1 whose body (after 9 header lines) is `body`.
void write_accelsim(const Scratch& s, const std::string& body) {
  s.write("kernelslist.g", "kernel-1.traceg\n");
  s.write("kernel-1.traceg", kAccelSimHeader + body);
}

// PPT-GPU

TEST(GpuTracePpt, ReadsAppConfigAndSass) {
  const TraceApplication app = read_trace_dir("tests/data/gpu/ppt-a");
  EXPECT_EQ(app.format, "ppt-gpu");
  EXPECT_EQ(app.dir, "tests/data/gpu/ppt-a");
  EXPECT_TRUE(app.warnings.empty());
  ASSERT_EQ(app.kernels.size(), 2u);

  const KernelTrace& k = app.kernels[0];
  EXPECT_EQ(k.id, 1);
  EXPECT_EQ(k.name, "vecadd");
  EXPECT_EQ(k.registers, 16);
  EXPECT_EQ(k.shared_bytes, 1024);
  EXPECT_EQ(k.stream, 0);
  // PPT-GPU records only the products of the dimensions.
  EXPECT_EQ(k.grid.x, 2);
  EXPECT_EQ(k.grid.y, 1);
  EXPECT_EQ(k.grid.z, 1);
  EXPECT_EQ(k.block.count(), 64);
  EXPECT_EQ(k.traced_block, 0);

  ASSERT_EQ(k.instructions.size(), 14u);
  EXPECT_EQ(k.traced_warps, 2);
  // Hardware warps 5 and 2 become 0 and 1, in order of first appearance.
  const std::vector<int> warps = {0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1};
  for (size_t i = 0; i < warps.size(); ++i)
    EXPECT_EQ(k.instructions[i].warp, warps[i]) << "instruction " << i;
  const Instruction& setp = k.instructions[5];
  EXPECT_EQ(opcode_of(k, setp.opcode), "ISETP.GE.AND");
  EXPECT_EQ(setp.operands, (std::vector<Reg>{kPredicate + 0, kTruePred, 2, kZeroReg, kTruePred}));
  EXPECT_EQ(setp.dst_count, -1);
  EXPECT_EQ(setp.pc, 0u);
  EXPECT_EQ(setp.active_mask, 0xffffffffu);
  // Immediates and constant-bank operands are skipped; uniform registers and predicates are kept.
  EXPECT_EQ(opcode_of(k, k.instructions[8].opcode), "FADD");
  EXPECT_EQ(k.instructions[8].operands, (std::vector<Reg>{5, 4}));
  EXPECT_EQ(k.instructions[10].operands, (std::vector<Reg>{kUniform + 4}));
  EXPECT_EQ(k.instructions[11].operands, (std::vector<Reg>{kUniformPredicate + 0}));
  // The opcode table holds each full mnemonic once, memory traces' included.
  EXPECT_EQ(k.opcodes,
            (std::vector<std::string>{"MOV", "S2R", "IMAD", "ISETP.GE.AND", "LDG.E", "FADD", "STG.E", "UMOV",
                                      "BRA", "EXIT", "LDGSTS.E.BYPASS.128", "ATOMG.E.ADD.STRONG.GPU"}));

  const KernelTrace& k2 = app.kernels[1];
  EXPECT_EQ(k2.id, 2);
  EXPECT_EQ(k2.name, "_Z6reducePfi");
  EXPECT_EQ(k2.registers, 32);
  EXPECT_EQ(k2.stream, 7);
  EXPECT_EQ(k2.instructions.size(), 2u);
  EXPECT_EQ(k2.traced_warps, 1);
  EXPECT_TRUE(k2.memory.empty());  // no memory trace files: no global memory instructions
  EXPECT_EQ(k2.files, (std::vector<std::string>{"tests/data/gpu/ppt-a/sass_traces/kernel_2.sass"}));
}

TEST(GpuTracePpt, MemoryLayoutAReducesToSectors) {
  const KernelTrace k = read_trace_dir("tests/data/gpu/ppt-a", {1}).kernels.at(0);
  ASSERT_EQ(k.memory.size(), 2u);
  const BlockMemory& b0 = k.memory[0];
  EXPECT_EQ(b0.block, 0);
  ASSERT_EQ(b0.records.size(), 3u);
  // Six lanes over three sectors, first appearance order, the repeat of the first sector dropped.
  EXPECT_EQ(opcode_of(k, b0.records[0].opcode), "LDG.E");
  EXPECT_EQ(b0.records[0].lanes, 6u);
  EXPECT_EQ(b0.records[0].warp, -1);
  EXPECT_EQ(sectors_of(b0, b0.records[0]), (std::vector<std::uint64_t>{S, S + 1, S + 2}));
  EXPECT_EQ(opcode_of(k, b0.records[1].opcode), "STG.E");
  EXPECT_EQ(sectors_of(b0, b0.records[1]), (std::vector<std::uint64_t>{S + 8}));
  // LDGSTS carries the global and the shared address lists; both count.
  EXPECT_EQ(b0.records[2].lanes, 4u);
  EXPECT_EQ(sectors_of(b0, b0.records[2]), (std::vector<std::uint64_t>{S + 0x100, 0x7fff00000000ull >> 5}));
  EXPECT_EQ(b0.sectors.size(), 6u);

  const BlockMemory& b1 = k.memory[1];
  EXPECT_EQ(b1.block, 1);
  ASSERT_EQ(b1.records.size(), 2u);
  EXPECT_EQ(opcode_of(k, b1.records[1].opcode), "ATOMG.E.ADD.STRONG.GPU");
  EXPECT_EQ(b1.records[1].lanes, 2u);
  EXPECT_EQ(sectors_of(b1, b1.records[1]), (std::vector<std::uint64_t>{S + 0x18}));

  EXPECT_EQ(k.files, (std::vector<std::string>{"tests/data/gpu/ppt-a/sass_traces/kernel_1.sass",
                                               "tests/data/gpu/ppt-a/memory_traces/kernel_1_block_0.mem",
                                               "tests/data/gpu/ppt-a/memory_traces/kernel_1_block_1.mem"}));
  long bytes = 0;
  for (const auto& f : k.files)
    bytes += static_cast<long>(fs::file_size(f));
  EXPECT_EQ(k.trace_bytes, bytes);
}

TEST(GpuTracePpt, MemoryLayoutBWithWarpIds) {
  const TraceApplication app = read_trace_dir("tests/data/gpu/ppt-b");
  EXPECT_TRUE(app.warnings.empty());
  ASSERT_EQ(app.kernels.size(), 1u);
  const KernelTrace& k = app.kernels[0];
  EXPECT_EQ(k.name, "stencil");
  EXPECT_EQ(k.registers, 24);
  EXPECT_EQ(k.grid.count(), 3);
  EXPECT_EQ(k.block.count(), 128);
  // Blocks 0 and 2 by increasing index; the SM-level kernel_1_sm_0.mem is not a block trace.
  ASSERT_EQ(k.memory.size(), 2u);
  EXPECT_EQ(k.files.size(), 3u);

  const BlockMemory& b0 = k.memory[0];
  EXPECT_EQ(b0.block, 0);
  ASSERT_EQ(b0.records.size(), 2u);
  EXPECT_EQ(b0.records[0].warp, -1);  // no warp column in this file
  EXPECT_EQ(b0.records[0].lanes, 2u);
  EXPECT_EQ(sectors_of(b0, b0.records[0]), (std::vector<std::uint64_t>{S}));
  EXPECT_EQ(sectors_of(b0, b0.records[1]), (std::vector<std::uint64_t>{S + 1}));

  const BlockMemory& b2 = k.memory[1];
  EXPECT_EQ(b2.block, 2);
  ASSERT_EQ(b2.records.size(), 4u);
  // The fork writes the first warp id in decimal (12) and the later ones in hex (d = 13, c = 12, 10 = 16), as
  // its ofstream stays in hex after the first address; warps are renumbered per block in order of appearance.
  EXPECT_EQ(b2.records[0].warp, 0);
  EXPECT_EQ(b2.records[1].warp, 1);
  EXPECT_EQ(b2.records[2].warp, 0);
  EXPECT_EQ(b2.records[3].warp, 2);
  EXPECT_EQ(b2.records[0].lanes, 3u);
  EXPECT_EQ(sectors_of(b2, b2.records[0]), (std::vector<std::uint64_t>{S, S + 2}));
  EXPECT_EQ(sectors_of(b2, b2.records[1]), (std::vector<std::uint64_t>{S + 8}));
  EXPECT_EQ(opcode_of(k, b2.records[3].opcode), "LDL");
  EXPECT_EQ(sectors_of(b2, b2.records[3]), (std::vector<std::uint64_t>{0xfffc80 >> 5}));
}

// Accel-Sim

void expect_accelsim_kernel_1(const KernelTrace& k) {
  EXPECT_EQ(k.id, 1);
  EXPECT_EQ(k.name, "_Z6vecaddPfS_S_i");
  EXPECT_EQ(k.grid.x, 2);
  EXPECT_EQ(k.grid.count(), 2);
  EXPECT_EQ(k.block.x, 64);
  EXPECT_EQ(k.registers, 16);
  EXPECT_EQ(k.shared_bytes, 0);
  EXPECT_EQ(k.stream, 0);
  EXPECT_EQ(k.traced_block, 0);

  // The first block's 7 + 3 instructions, in trace order, with PC, mask and destination count.
  ASSERT_EQ(k.instructions.size(), 10u);
  EXPECT_EQ(k.traced_warps, 2);
  const Instruction& mov = k.instructions[0];
  EXPECT_EQ(opcode_of(k, mov.opcode), "IMAD.MOV.U32");
  EXPECT_EQ(mov.warp, 0);
  EXPECT_EQ(mov.pc, 0u);
  EXPECT_EQ(mov.active_mask, 0xffffffffu);
  EXPECT_EQ(mov.dst_count, 1);
  EXPECT_EQ(mov.operands, (std::vector<Reg>{1, kZeroReg, kZeroReg}));
  const Instruction& st = k.instructions[3];
  EXPECT_EQ(opcode_of(k, st.opcode), "STG.E");
  EXPECT_EQ(st.pc, 0x30u);
  EXPECT_EQ(st.active_mask, 0x31u);
  EXPECT_EQ(st.dst_count, 0);
  EXPECT_EQ(st.operands, (std::vector<Reg>{4, 2}));
  EXPECT_EQ(k.instructions[7].warp, 1);
  EXPECT_EQ(k.instructions[9].pc, 0x60u);

  // Memory records of every block; shared (LDS) and all-lanes-off instructions make none.
  ASSERT_EQ(k.memory.size(), 2u);
  const BlockMemory& b0 = k.memory[0];
  EXPECT_EQ(b0.block, 0);
  ASSERT_EQ(b0.records.size(), 4u);
  // Round-robin over warps, each in its own order: w0's 1st, w1's 1st, w0's 2nd, w0's 3rd.
  const std::vector<int> warps = {0, 1, 0, 0};
  for (size_t i = 0; i < warps.size(); ++i)
    EXPECT_EQ(b0.records[i].warp, warps[i]) << "record " << i;
  // Format 1, base + 4 per lane over 32 lanes: 128 bytes, 4 sectors.
  EXPECT_EQ(b0.records[0].lanes, 32u);
  EXPECT_EQ(sectors_of(b0, b0.records[0]), (std::vector<std::uint64_t>{S, S + 1, S + 2, S + 3}));
  EXPECT_EQ(sectors_of(b0, b0.records[1]), (std::vector<std::uint64_t>{S + 4, S + 5, S + 6, S + 7}));
  // Format 0, one address per active lane (mask 0xf).
  EXPECT_EQ(opcode_of(k, b0.records[2].opcode), "LDG.E.64");
  EXPECT_EQ(b0.records[2].lanes, 4u);
  EXPECT_EQ(sectors_of(b0, b0.records[2]), (std::vector<std::uint64_t>{S + 0x80, S + 0x82}));
  // Format 2, base then deltas from the previous lane (-32, +96) over the 3 lanes of mask 0x31.
  EXPECT_EQ(opcode_of(k, b0.records[3].opcode), "STG.E");
  EXPECT_EQ(b0.records[3].lanes, 3u);
  EXPECT_EQ(sectors_of(b0, b0.records[3]), (std::vector<std::uint64_t>{S + 0x100, S + 0xff, S + 0x102}));

  const BlockMemory& b1 = k.memory[1];
  EXPECT_EQ(b1.block, 1);
  ASSERT_EQ(b1.records.size(), 3u);
  EXPECT_EQ(b1.records[0].warp, 0);
  EXPECT_EQ(sectors_of(b1, b1.records[0]), (std::vector<std::uint64_t>{S + 0x180}));  // stride 0
  EXPECT_EQ(opcode_of(k, b1.records[1].opcode), "RED.E.ADD.STRONG.GPU");
  EXPECT_EQ(b1.records[1].warp, 1);
  EXPECT_EQ(b1.records[1].lanes, 2u);
  EXPECT_EQ(sectors_of(b1, b1.records[1]), (std::vector<std::uint64_t>{S + 0x280, S + 0x281}));
  EXPECT_EQ(opcode_of(k, b1.records[2].opcode), "ATOMG.E.ADD.STRONG.GPU");
  EXPECT_EQ(b1.records[2].warp, 0);
}

TEST(GpuTraceAccelSim, ReadsAllAddressFormats) {
  const TraceApplication app = read_trace_dir("tests/data/gpu/accelsim");
  EXPECT_EQ(app.format, "accel-sim");
  EXPECT_TRUE(app.warnings.empty());
  ASSERT_EQ(app.kernels.size(), 2u);
  expect_accelsim_kernel_1(app.kernels[0]);
  EXPECT_EQ(app.kernels[0].files, (std::vector<std::string>{"tests/data/gpu/accelsim/kernel-1.traceg"}));
  EXPECT_EQ(app.kernels[0].trace_bytes,
            static_cast<long>(fs::file_size("tests/data/gpu/accelsim/kernel-1.traceg")));
}

TEST(GpuTraceAccelSim, LineInfoClustersAndTracedBlock) {
  const KernelTrace k = read_trace_dir("tests/data/gpu/accelsim", {2}).kernels.at(0);
  EXPECT_EQ(k.id, 2);
  EXPECT_EQ(k.name, "_Z4tilePf");
  EXPECT_EQ(k.grid.x, 2);
  EXPECT_EQ(k.grid.y, 2);
  EXPECT_EQ(k.grid.z, 1);
  EXPECT_EQ(k.shared_bytes, 2048);
  EXPECT_EQ(k.registers, 40);
  EXPECT_EQ(k.stream, 140245696);
  // thread block = 1,1,0 in a 2x2 grid is block 1*2 + 1.
  EXPECT_EQ(k.traced_block, 3);
  ASSERT_EQ(k.instructions.size(), 3u);
  EXPECT_EQ(k.instructions[1].pc, 0x10u);  // after the line number column
  EXPECT_EQ(opcode_of(k, k.instructions[1].opcode), "LDL.64");
  ASSERT_EQ(k.memory.size(), 1u);
  EXPECT_EQ(k.memory[0].block, 3);
  ASSERT_EQ(k.memory[0].records.size(), 1u);
  // 32 lanes 8 bytes apart from 0xfffc80: 256 bytes, 8 sectors.
  EXPECT_EQ(k.memory[0].records[0].count, 8u);
  EXPECT_EQ(k.memory[0].sectors.front(), 0xfffc80u >> 5);
}

TEST(GpuTraceAccelSim, XzCompressedTraceReadsTheSame) {
  const TraceApplication app = read_trace_dir("tests/data/gpu/accelsim-xz");
  ASSERT_EQ(app.kernels.size(), 1u);
  expect_accelsim_kernel_1(app.kernels[0]);
  EXPECT_EQ(app.kernels[0].files,
            (std::vector<std::string>{"tests/data/gpu/accelsim-xz/kernel-1.traceg.xz"}));
  EXPECT_EQ(app.kernels[0].trace_bytes,
            static_cast<long>(fs::file_size("tests/data/gpu/accelsim-xz/kernel-1.traceg.xz")));
}

TEST(GpuTraceAccelSim, ListedNameFallsBackToTheCompressedFile) {
  Scratch s("fallback");
  s.write("kernelslist.g", "kernel-1.traceg\n");
  fs::copy_file("tests/data/gpu/accelsim-xz/kernel-1.traceg.xz", s.path("kernel-1.traceg.xz"));
  const TraceApplication app = read_trace_dir(s.dir());
  ASSERT_EQ(app.kernels.size(), 1u);
  expect_accelsim_kernel_1(app.kernels[0]);
}

TEST(GpuTraceAccelSim, OldLayoutWithBlockAndWarpColumns) {
  // Before tracer version 3 each line repeated its block and warp; version 3 files still say so in their
  // format line while their lines no longer do, so the lines' shape decides, not the header.
  Scratch s("old-layout");
  s.write("kernelslist.g", "kernel-1.traceg\n");
  s.write(
      "kernel-1.traceg",
      "-kernel name = k\n-grid dim = (1,1,1)\n-block dim = (32,1,1)\n-nregs = 8\n\n#traces format = "
      "threadblock_x threadblock_y threadblock_z warpid_tb PC mask dest_num [reg_dests] opcode src_num "
      "[reg_srcs] mem_width [adrrescompress?] [mem_addresses]\n\n#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\n"
      "insts = 2\n0 0 0 0 0010 ffffffff 1 R2 LDG.E 1 R4 4 1 0x7f0000000000 4\n0 0 0 0 0020 ffffffff 0 EXIT 0 "
      "0\n"
      "#END_TB\n");
  KernelTrace k = read_trace_dir(s.dir()).kernels.at(0);
  ASSERT_EQ(k.instructions.size(), 2u);
  EXPECT_EQ(k.instructions[0].pc, 0x10u);
  EXPECT_EQ(k.instructions[0].operands, (std::vector<Reg>{2, 4}));
  ASSERT_EQ(k.memory.size(), 1u);
  EXPECT_EQ(k.memory[0].sectors, (std::vector<std::uint64_t>{S, S + 1, S + 2, S + 3}));

  s.write(
      "kernel-1.traceg",
      "-kernel name = k\n-grid dim = (1,1,1)\n-block dim = (32,1,1)\n-accelsim tracer version = 3\n\n"
      "#traces format = threadblock_x threadblock_y threadblock_z warpid_tb PC mask dest_num [reg_dests] "
      "opcode "
      "src_num [reg_srcs] mem_width [adrrescompress?] [mem_addresses]\n\n#BEGIN_TB\nthread block = 0,0,0\n"
      "warp = 0\ninsts = 1\n0020 ffffffff 0 EXIT 0 0\n#END_TB\n");
  k = read_trace_dir(s.dir()).kernels.at(0);
  ASSERT_EQ(k.instructions.size(), 1u);
  EXPECT_EQ(k.instructions[0].pc, 0x20u);
}

// selection and malformed inputs

TEST(GpuTraceErrors, FolderAndFormat) {
  EXPECT_EQ(error_of([] { read_trace_dir("tests/data/gpu/nope"); }),
            "tests/data/gpu/nope: error: no such trace folder");
  Scratch s("neither");
  s.write("README", "nothing here\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.dir() +
                ": error: not a trace folder: it holds neither app_config.py (PPT-GPU) nor kernelslist.g "
                "(Accel-Sim)");
}

TEST(GpuTraceErrors, UnknownKernelIdListsTheAvailableOnes) {
  EXPECT_EQ(error_of([] {
              read_trace_dir("tests/data/gpu/ppt-a", {1, 7});
            }),
            "tests/data/gpu/ppt-a: error: kernel 7 is not in the trace (it has kernels 1-2)");
  EXPECT_EQ(error_of([] { read_trace_dir("traces/ppt-gpu/rodinia-bfs", {17}); }),
            "traces/ppt-gpu/rodinia-bfs: error: kernel 17 is not in the trace (it has kernels 1-16)");
  const TraceApplication app = read_trace_dir("tests/data/gpu/ppt-a", {2, 2});
  ASSERT_EQ(app.kernels.size(), 1u);
  EXPECT_EQ(app.kernels[0].id, 2);
}

TEST(GpuTraceErrors, PptBadNumbers) {
  Scratch s("ppt-bad-number");
  write_ppt(s);
  s.write("sass_traces/kernel_1.sass", "0 MOV R1 \nx3 MOV R1 \n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("sass_traces/kernel_1.sass") + ":2:1: error: expected a warp id, got 'x3'");
  s.write("sass_traces/kernel_1.sass", "0 MOV R1 \n0 IADD R300 R1 \n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("sass_traces/kernel_1.sass") + ":2:8: error: register 'R300' out of range");
  s.write("sass_traces/kernel_1.sass", "0 MOV R1 \n0 \n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("sass_traces/kernel_1.sass") + ":2:3: error: missing opcode after the warp id");

  write_ppt(s);
  s.write("memory_traces/kernel_1_block_0.mem", "\n=====\nLDG.E 0x7f0000000000 0x7f00zz000004 \n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("memory_traces/kernel_1_block_0.mem") +
                ":3:22: error: expected a hex address, got '0x7f00zz000004'");
}

TEST(GpuTraceErrors, PptTruncatedRecord) {
  Scratch s("ppt-truncated");
  write_ppt(s);
  s.write("memory_traces/kernel_1_block_0.mem", "\n=====\nLDG.E 0x7f0000000000 \n=====\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("memory_traces/kernel_1_block_0.mem") +
                ":4:1: error: truncated record: '=====' with no record after it");
  s.write("memory_traces/kernel_1_block_0.mem", "\n=====\n=====\nLDG.E 0x7f0000000000 \n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("memory_traces/kernel_1_block_0.mem") +
                ":3:1: error: '=====' follows the one of line 2 with no record between");
}

TEST(GpuTraceErrors, PptMissingFiles) {
  Scratch s("ppt-missing");
  write_ppt(s);
  fs::remove(s.path("sass_traces/kernel_1.sass"));
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("sass_traces/kernel_1.sass") + ": error: no such file");
  write_ppt(s);
  fs::remove_all(s.path("memory_traces"));
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }), s.path("memory_traces") + ": error: no such folder");
}

TEST(GpuTraceErrors, PptGarbageAppConfig) {
  Scratch s("ppt-config");
  write_ppt(s);
  const std::string config = s.path("app_config.py");
  s.write("app_config.py", "hello world\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            config + ":1:7: error: expected '=' after 'hello', got 'world'");
  s.write("app_config.py", "kernel_1 = {\n\t\"kernel_name\"\t: \"k\",\n\t\"num_registers\"\t: 18x,\n}\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            config + ":3:20: error: \"num_registers\": expected an integer, got '18x'");
  s.write("app_config.py", "kernel_1 = {\n\t\"kernel_name\"\t: \"k\",\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            config + ":3:1: error: expected a quoted key or '}', got the end of the file");
  s.write("app_config.py", "kernel_1 = {\n\t\"kernel_name\"\t: \"k\"\n}\napp_kernels_id = [1]\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            config + ":1:12: error: kernel_1: missing \"num_registers\"");
  s.write(
      "app_config.py",
      "kernel_1 = {\"kernel_name\": \"k\", \"num_registers\": 8, \"shared_mem_bytes\": 0, \"grid_size\": 1,"
      " \"block_size\": 32}\napp_kernels_id = [1, 2]\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            config + ":2:22: error: app_kernels_id lists kernel 2 but there is no kernel_2 dict");
  s.write("app_config.py", std::string("kernel_1 = {\x01}"));
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            config + ":1:13: error: unexpected character '\\x01'");
}

TEST(GpuTraceErrors, AccelSimMalformedLines) {
  Scratch s("accelsim-bad");
  const std::string trace = s.path("kernel-1.traceg");
  // Lines 1-10 are the header; the body starts on line 11.
  write_accelsim(s,
                 "#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\ninsts = 1\n0000 fffffffg 0 EXIT 0 0\n#END_TB\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            trace + ":15:6: error: active mask: expected a hex number, got 'fffffffg'");
  write_accelsim(
      s, "#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\ninsts = 1\n0010 00000003 1 R2 LDG.E 1 R4 4 0 0x10\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            trace + ":15:39: error: truncated instruction: missing address");
  write_accelsim(
      s, "#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\ninsts = 1\n0010 00000003 1 R2 LDG.E 1 R4 4 3 0x10\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            trace + ":15:1: error: unknown address format 3 (0 list, 1 base+stride, 2 base+deltas)");
  write_accelsim(s,
                 "#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\ninsts = 2\n0000 ffffffff 0 EXIT 0 0\n#END_TB\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            trace + ":16:1: error: warp 0 has 1 instructions where 'insts = 2' said");
  write_accelsim(s, "#BEGIN_TB\nthread block = 0,0,0\nwarp = 0\ninsts = 1\n0000 ffffffff 0 EXIT 0 0\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            trace + ":15:1: error: the file ends inside a thread block (no #END_TB)");
  write_accelsim(s, "#BEGIN_TB\nthread block = 0,5,0\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            trace + ":12:16: error: thread block 0,5,0 is outside the grid (1,1,1)");
}

TEST(GpuTraceErrors, AccelSimListAndFiles) {
  Scratch s("accelsim-list");
  s.write("kernelslist.g", "MemcpyHtoD,0x00007f1234500000,4096\nkernel-1.trace\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("kernelslist.g") +
                ":2:1: error: expected 'kernel-<n>.traceg' (or .traceg.xz) or a Memcpy line, got "
                "'kernel-1.trace' (a "
                "raw tracer output: run Accel-Sim's post-traces-processing on it first)");
  s.write("kernelslist.g", "kernel-1.traceg\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }), s.path("kernel-1.traceg") + ": error: no such file");
}

TEST(GpuTraceErrors, AccelSimCorruptXz) {
  Scratch s("accelsim-corrupt");
  s.write("kernelslist.g", "kernel-1.traceg.xz\n");
  s.write("kernel-1.traceg.xz", "this is not xz data\n");
  EXPECT_EQ(error_of([&] { read_trace_dir(s.dir()); }),
            s.path("kernel-1.traceg.xz") +
                ": error: cannot decompress: xz failed (status 1); the file is corrupt or truncated");
}

TEST(GpuTraceErrors, AccelSimWithoutXzProgram) {
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ::setenv("PATH", "/nonexistent-whatif-test", 1);
  const std::string message = error_of([] { read_trace_dir("tests/data/gpu/accelsim-xz"); });
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(
      message,
      "tests/data/gpu/accelsim-xz/kernel-1.traceg.xz: error: cannot decompress: the xz program was not found "
      "(install xz-utils)");
}

// the shipped Rodinia BFS traces

TEST(GpuTraceBfs, ReadsTheShippedFolder) {
  const TraceApplication app = read_trace_dir("traces/ppt-gpu/rodinia-bfs");
  EXPECT_EQ(app.format, "ppt-gpu");
  EXPECT_TRUE(app.warnings.empty());
  ASSERT_EQ(app.kernels.size(), 16u);
  const KernelTrace& k = app.kernels[0];
  EXPECT_EQ(k.id, 1);
  EXPECT_EQ(k.name, "Kernel");
  EXPECT_EQ(k.registers, 18);
  EXPECT_EQ(k.grid.count(), 8);
  EXPECT_EQ(k.block.count(), 512);
  EXPECT_EQ(k.traced_warps, 16);
  // The reference output's 2,176 warp instructions executed are this block's 272 times 8 blocks.
  EXPECT_EQ(k.instructions.size(), 272u);
  EXPECT_EQ(app.kernels[1].name, "Kernel2");
  EXPECT_EQ(app.kernels[1].registers, 12);
  ASSERT_EQ(k.memory.size(), 8u);

  // PPT-GPU's own output for kernel 1 (reference-outputs/kernel_1_SASS_g2.out) counts 180 global read and 21
  // global write requests over the whole kernel, each one transaction (one sector: 32 lanes of bytes).
  long records = 0, reads = 0, writes = 0, sectors = 0;
  for (const BlockMemory& bm : k.memory) {
    for (const MemoryRecord& r : bm.records) {
      ++records;
      const std::string& op = opcode_of(k, r.opcode);
      reads += op.rfind("LDG", 0) == 0;
      writes += op.rfind("STG", 0) == 0;
      sectors += r.count;
    }
  }
  EXPECT_EQ(records, 201);
  EXPECT_EQ(reads, 180);
  EXPECT_EQ(writes, 21);
  EXPECT_EQ(sectors, 201);
  EXPECT_EQ(k.files.size(), 9u);
}

// Not a timed test (targets live in benchmarks): it reports the read time of the 4.9 MB folder.
TEST(GpuTraceBfs, ReportsReadTime) {
  double best = 1e9;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const TraceApplication app = read_trace_dir("traces/ppt-gpu/rodinia-bfs");
    const auto t1 = std::chrono::steady_clock::now();
    ASSERT_EQ(app.kernels.size(), 16u);
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::printf("[ info     ] rodinia-bfs (16 kernels) read in %.2f ms (best of 5)\n", best);
}

}  // namespace
