// Unit tests of the GPU micro-architecture loader: shipped GPUs and ISA tables, PPT-GPU's TITAN V, classify.
#include <gtest/gtest.h>

#include <string>

#include "core/diagnostics.hpp"
#include "gpu/hardware.hpp"

using namespace whatif::gpu;
using whatif::core::InputError;

namespace {

const char* const kShipped[] = {"P100-SXM2-16GB", "V100-SXM2-16GB",  "V100-SXM2-32GB",
                                "TITAN-V",        "TITAN-V-PPT-GPU", "A100-SXM4-40GB",
                                "A100-SXM4-80GB", "H100-SXM5-80GB",  "H200-SXM-141GB"};

// The message of the InputError that loading `gpu` from `dir` throws ("" when it loads).
std::string load_error(const std::string& dir, const std::string& gpu) {
  try {
    load_gpu_hardware(dir, gpu);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kData = "tests/data/gpu-models/";

}  // namespace

TEST(GpuHardware, EveryShippedGpuLoadsWithAllFields) {
  for (const char* name : kShipped) {
    SCOPED_TRACE(name);
    GpuHardware hw = load_gpu_hardware("models", name);
    EXPECT_EQ(hw.name, name);
    EXPECT_GT(hw.cc_major, 5);
    EXPECT_GT(hw.clock_hz, 5e8);
    EXPECT_GT(hw.sms, 0);
    // A unit may be absent (no tensor cores on Pascal) only when the ISA table sends nothing to it.
    for (int u = 0; u < kUnits; ++u) {
      bool used = hw.isa.fallback.unit == static_cast<Unit>(u);
      for (const auto& [op, e] : hw.isa.opcodes)
        used = used || e.unit == static_cast<Unit>(u);
      if (used) {
        EXPECT_GT(hw.units[u], 0) << to_string(static_cast<Unit>(u));
      }
    }
    EXPECT_GT(hw.schedulers, 0);
    EXPECT_GT(hw.dispatch, 0);
    EXPECT_GT(hw.l1_bytes, 0);
    EXPECT_GT(hw.l1_line, 0);
    EXPECT_GT(hw.l1_sector, 0);
    EXPECT_GT(hw.l1_assoc, 0);
    EXPECT_TRUE(hw.l1_caches_global_loads);
    EXPECT_GT(hw.l2_bytes, hw.l1_bytes);
    EXPECT_GT(hw.l2_line, 0);
    EXPECT_GT(hw.l2_assoc, 0);
    EXPECT_GT(hw.l2_partitions, 0);
    EXPECT_GT(hw.dram_channels, 0);
    EXPECT_GT(hw.dram_bandwidth, 1e11);
    EXPECT_GT(hw.noc_bandwidth, 1e11);
    const Latencies& l = hw.latency;
    for (int v : {l.dram, l.l1, l.l2, l.shared, l.constant, l.local, l.texture, l.atomic, l.block_launch})
      EXPECT_GT(v, 0);
    EXPECT_LT(l.l1, l.l2);
    EXPECT_LT(l.l2, l.dram);
    const ComputeLimits& c = hw.limits;
    EXPECT_EQ(c.warp_size, 32);
    for (long v :
         {long{c.max_threads_block}, long{c.max_threads_sm}, long{c.max_blocks_sm}, long{c.max_warps_sm},
          long{c.registers_sm}, long{c.max_registers_block}, long{c.max_registers_thread},
          long{c.register_unit}, long{c.shared_unit}, c.max_shared_block, c.shared_sm})
      EXPECT_GT(v, 0);
    EXPECT_EQ(hw.isa.architecture, hw.architecture);
    EXPECT_GT(hw.isa.opcodes.size(), 100u);
    EXPECT_FALSE(hw.isa.file.empty());
  }
}

TEST(GpuHardware, ShippedValuesFollowTheirSources) {
  GpuHardware p100 = load_gpu_hardware("models", "P100-SXM2-16GB");
  EXPECT_EQ(p100.cc_major, 6);
  EXPECT_EQ(p100.units[static_cast<int>(Unit::tensor)], 0);
  EXPECT_EQ(p100.units[static_cast<int>(Unit::int_alu)], 0);  // integer work runs on the CUDA cores
  EXPECT_EQ(p100.isa.classify("IADD3").unit, Unit::fp32);
  EXPECT_EQ(p100.schedulers, 2);
  EXPECT_EQ(p100.dispatch, 2);
  EXPECT_EQ(p100.limits.shared_sm, 64 * 1024);

  GpuHardware v100 = load_gpu_hardware("models", "V100-SXM2-16GB");
  EXPECT_DOUBLE_EQ(v100.clock_hz, 1290e6);
  EXPECT_EQ(v100.units[static_cast<int>(Unit::tensor)], 8);
  EXPECT_EQ(v100.l2_bytes, 6L * 1024 * 1024);
  EXPECT_EQ(v100.l2_partitions, 64);
  EXPECT_DOUBLE_EQ(v100.dram_bandwidth, 900e9);

  GpuHardware a100 = load_gpu_hardware("models", "A100-SXM4-80GB");
  EXPECT_EQ(a100.cc_major, 8);
  EXPECT_EQ(a100.limits.shared_unit, 128);
  EXPECT_EQ(a100.limits.shared_sm, 164 * 1024);
  EXPECT_EQ(a100.l1_bytes + a100.limits.shared_sm, 192 * 1024);  // the unified L1/shared capacity
  EXPECT_EQ(a100.latency.dram, 290);

  GpuHardware h100 = load_gpu_hardware("models", "H100-SXM5-80GB");
  EXPECT_EQ(h100.units[static_cast<int>(Unit::fp32)], 128);
  EXPECT_EQ(h100.isa.classify("HGMMA.64x128x16.F32").unit, Unit::tensor);
  EXPECT_EQ(h100.isa.classify("UTMALDG.2D").kind, OpKind::shared_async);
}

TEST(GpuHardware, PptGpuTitanVIsPptGpusDescription) {
  GpuHardware hw = load_gpu_hardware("models", "TITAN-V-PPT-GPU");
  EXPECT_EQ(hw.architecture, "Volta");
  EXPECT_EQ(hw.cc_major, 7);
  EXPECT_EQ(hw.cc_minor, 0);
  EXPECT_DOUBLE_EQ(hw.clock_hz, 1200e6);
  EXPECT_EQ(hw.sms, 80);
  const std::array<int, kUnits> units = {64, 64, 32, 16, 4, 32, 4, 4};  // INT SP DP SFU TC LDS BRA TEX
  EXPECT_EQ(hw.units, units);
  EXPECT_EQ(hw.schedulers, 4);
  EXPECT_EQ(hw.dispatch, 1);
  EXPECT_EQ(hw.l1_bytes, 32 * 1024);
  EXPECT_EQ(hw.l1_line, 32);
  EXPECT_EQ(hw.l1_assoc, 64);
  EXPECT_TRUE(hw.l1_caches_global_loads);
  EXPECT_EQ(hw.l2_bytes, 4608L * 1024);  // 4.5 MB
  EXPECT_EQ(hw.l2_line, 64);
  EXPECT_EQ(hw.l2_assoc, 24);
  EXPECT_EQ(hw.l2_partitions, 48);
  EXPECT_EQ(hw.dram_channels, 24);
  EXPECT_DOUBLE_EQ(hw.dram_bandwidth, 565e9);
  EXPECT_DOUBLE_EQ(hw.noc_bandwidth, 1140e9);
  EXPECT_EQ(hw.limits.shared_sm, 98 * 1024);
  EXPECT_EQ(hw.limits.max_threads_sm, 2048);
  EXPECT_EQ(hw.limits.max_blocks_sm, 32);
  EXPECT_EQ(hw.limits.registers_sm, 65536);
  EXPECT_EQ(hw.limits.register_unit, 256);
  EXPECT_EQ(hw.limits.shared_unit, 256);
  const Latencies& l = hw.latency;
  EXPECT_EQ(l.dram, 302);
  EXPECT_EQ(l.l1, 33);
  EXPECT_EQ(l.l2, 213);
  EXPECT_EQ(l.local, 302);
  EXPECT_EQ(l.constant, 8);
  EXPECT_EQ(l.shared, 33);
  EXPECT_EQ(l.texture, 436);
  EXPECT_EQ(l.atomic, 245);
  EXPECT_EQ(l.block_launch, 700);
  // PPT-GPU's Volta ALU latencies: int/fp/half 4, double 8, SFU 4, tensor 4, branch 4.
  EXPECT_EQ(hw.isa.classify("IMAD.WIDE").latency, 4);
  EXPECT_EQ(hw.isa.classify("FFMA").latency, 4);
  EXPECT_EQ(hw.isa.classify("HFMA2.MMA").latency, 4);
  EXPECT_EQ(hw.isa.classify("DFMA").latency, 8);
  EXPECT_EQ(hw.isa.classify("MUFU.RSQ").latency, 4);
  EXPECT_EQ(hw.isa.classify("HMMA.884.F32.F32").latency, 4);
  EXPECT_EQ(hw.isa.classify("BRA").latency, 4);
}

TEST(GpuHardware, ClassifyStripsModifiersAndFallsBack) {
  GpuHardware hw = load_gpu_hardware("models", "TITAN-V");
  bool known = false;
  IsaEntry e = hw.isa.classify("LDG.E.U8", &known);
  EXPECT_TRUE(known);
  EXPECT_EQ(e.kind, OpKind::global_load);
  EXPECT_EQ(e.unit, Unit::ldst);
  EXPECT_EQ(hw.isa.classify("MEMBAR.GL").kind, OpKind::memory_fence);  // not a barrier
  EXPECT_EQ(hw.isa.classify("BAR.SYNC").kind, OpKind::barrier);
  EXPECT_EQ(hw.isa.classify("STG.E.64").kind, OpKind::global_store);
  EXPECT_EQ(hw.isa.classify("ST.E").kind, OpKind::global_store);
  EXPECT_EQ(hw.isa.classify("LD.E.64").kind, OpKind::global_load);
  EXPECT_EQ(hw.isa.classify("LDL.64").kind, OpKind::local_load);
  EXPECT_EQ(hw.isa.classify("STL").kind, OpKind::local_store);
  EXPECT_EQ(hw.isa.classify("LDS.U.128").kind, OpKind::shared_load);
  EXPECT_EQ(hw.isa.classify("STS.128").kind, OpKind::shared_store);
  EXPECT_EQ(hw.isa.classify("LDC.64").kind, OpKind::constant_load);
  EXPECT_EQ(hw.isa.classify("ATOMG.E.ADD.STRONG.GPU").kind, OpKind::atomic);
  EXPECT_EQ(hw.isa.classify("ATOMS.ADD").kind, OpKind::atomic);
  EXPECT_EQ(hw.isa.classify("RED.E.ADD").kind, OpKind::atomic);
  EXPECT_EQ(hw.isa.classify("TEX.LL").kind, OpKind::texture);
  EXPECT_EQ(hw.isa.classify("BRA.DIV").kind, OpKind::branch);
  EXPECT_EQ(hw.isa.classify("EXIT").kind, OpKind::exit);
  EXPECT_EQ(hw.isa.classify("DFMA.RP").unit, Unit::fp64);
  EXPECT_EQ(hw.isa.classify("MUFU.EX2").unit, Unit::sfu);
  EXPECT_EQ(hw.isa.classify("HMMA.884.F32.F32.STEP0").unit, Unit::tensor);
  EXPECT_EQ(hw.isa.classify("IMAD.MOV.U32").unit, Unit::int_alu);

  e = hw.isa.classify("NOTANOPCODE.X", &known);
  EXPECT_FALSE(known);
  EXPECT_EQ(e.kind, hw.isa.fallback.kind);
  EXPECT_EQ(e.unit, hw.isa.fallback.unit);
  EXPECT_EQ(e.latency, hw.isa.fallback.latency);
  hw.isa.classify("", &known);
  EXPECT_FALSE(known);

  GpuHardware p100 = load_gpu_hardware("models", "P100-SXM2-16GB");
  p100.isa.classify("XMAD.MRG", &known);
  EXPECT_TRUE(known);
  EXPECT_EQ(p100.isa.classify("SSY").kind, OpKind::branch);
  EXPECT_EQ(p100.isa.classify("PEXIT").kind, OpKind::branch);  // pre-exit, not an exit
  hw.isa.classify("XMAD", &known);
  EXPECT_FALSE(known);  // Volta has no XMAD

  GpuHardware a100 = load_gpu_hardware("models", "A100-SXM4-40GB");
  EXPECT_EQ(a100.isa.classify("LDGSTS.E.BYPASS.128").kind, OpKind::shared_async);
  EXPECT_EQ(a100.isa.classify("ULDC.64").kind, OpKind::constant_load);
  EXPECT_EQ(a100.isa.classify("LDSM.16.M88.4").kind, OpKind::shared_load);
  EXPECT_EQ(a100.isa.classify("DEPBAR.LE").kind, OpKind::memory_fence);
  EXPECT_EQ(a100.isa.classify("DMMA.884").unit, Unit::tensor);
}

TEST(GpuHardware, NamesOfUnitsAndKinds) {
  EXPECT_EQ(to_string(Unit::int_alu), "int_alu");
  EXPECT_EQ(to_string(Unit::tex), "tex");
  EXPECT_EQ(to_string(OpKind::alu), "alu");
  EXPECT_EQ(to_string(OpKind::shared_async), "shared_async");
  EXPECT_EQ(to_string(OpKind::memory_fence), "memory_fence");
  EXPECT_EQ(to_string(OpKind::exit), "exit");
}

TEST(GpuHardware, RoundNumberGpuLoadsExactly) {
  GpuHardware hw = load_gpu_hardware(kData + "good", "TEST-GPU");
  EXPECT_EQ(hw.file, kData + "good/gpus/test-gpu.yaml");
  EXPECT_EQ(hw.isa.file, kData + "good/isa/volta.yaml");
  EXPECT_DOUBLE_EQ(hw.clock_hz, 1e9);
  EXPECT_EQ(hw.sms, 2);
  EXPECT_EQ(hw.units[static_cast<int>(Unit::tensor)], 8);
  EXPECT_EQ(hw.l1_bytes, 32768);
  EXPECT_EQ(hw.l1_line, 128);
  EXPECT_EQ(hw.l1_sector, 32);
  EXPECT_FALSE(hw.l1_caches_global_loads);
  EXPECT_EQ(hw.l2_bytes, 1048576);
  EXPECT_DOUBLE_EQ(hw.noc_bandwidth, 200e9);
  EXPECT_DOUBLE_EQ(hw.dram_bandwidth, 100e9);
  EXPECT_EQ(hw.limits.max_shared_block, 48 * 1024);
  EXPECT_EQ(hw.isa.opcodes.size(), 5u);
  EXPECT_EQ(hw.isa.classify("BRA.U").latency, 2);
  EXPECT_EQ(hw.isa.classify("LDG.E").latency, 0);  // memory kinds take theirs from the hierarchy
}

TEST(GpuHardware, UnknownGpuSuggestsAName) {
  const std::string msg = load_error("models", "TITAN-W");
  EXPECT_NE(msg.find("models/gpus: error: unknown GPU 'TITAN-W', did you mean 'TITAN-V'?"), std::string::npos)
      << msg;
}

TEST(GpuHardware, MissingSectionNamesTheFile) {
  EXPECT_EQ(load_error(kData + "missing-section", "PLAIN"),
            kData +
                "missing-section/gpus/plain.yaml:1:1: error: gpu model 'PLAIN': 'microarchitecture': missing "
                "section: the kernel model needs the GPU's units, caches, latencies and limits (see "
                "models/README.md, 'Micro-architecture section')");
}

TEST(GpuHardware, MalformedSectionReportsEveryProblem) {
  const std::string file = kData + "bad-fields/gpus/bad.yaml";
  const std::string msg = load_error(kData + "bad-fields", "BAD");
  for (const std::string& expected : {
           file + ":32:18: error: gpu model 'BAD': 'value': unknown frequency unit 'GHzz' in '1GHzz'",
           file + ":49:34: error: gpu model 'BAD': 'value': expected true or false, got 'maybe'",
           file + ":57:11: error: gpu model 'BAD': 'dram': 'source' must not be empty",
           file + ":69:21: error: gpu model 'BAD': 'max_threads_sm': 1536 threads is not max_warps_sm x "
                  "warp_size = 64 x 32",
           file + ":32:3: error: gpu model 'BAD': 'warp_schedulers': missing required field",
           file + ":32:3: error: gpu model 'BAD': 'dram_channels': missing required field",
           file + ":42:3: error: gpu model 'BAD': 'warp_scheduler': unknown field, did you mean "
                  "'warp_schedulers'?",
       })
    EXPECT_NE(msg.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n" << msg;
}

TEST(GpuHardware, CacheGeometryMustBeWholeSets) {
  const std::string msg = load_error(kData + "bad-fields", "BAD");
  // 1 MiB is not a whole number of 24-way sets of 128 B lines.
  EXPECT_NE(
      msg.find("bad.yaml:53:20: error: gpu model 'BAD': 'associativity': 1048576 B is not a whole number "
               "of 24-way sets of 128 B lines"),
      std::string::npos)
      << msg;
}

TEST(GpuHardware, MalformedIsaReportsEveryProblem) {
  const std::string isa = kData + "bad-isa/isa/volta.yaml";
  const std::string msg = load_error(kData + "bad-isa", "TEST-GPU");
  for (const std::string& expected : {
           isa +
               ":9:27: error: opcode 'LDG': 'kind': unknown value 'global_lod', did you mean 'global_load'?",
           isa + ":10:47: error: opcode 'LDS': 'class': kind 'shared_load' takes its latency from the GPU's "
                 "memory latencies; remove 'class'",
           isa + ":11:30: error: opcode 'BAR': 'kind': kind 'barrier' needs a latency 'class'",
           isa + ":12:3: error: isa 'volta': 'LDG.E': an opcode is a base mnemonic",
           isa + ":13:44: error: opcode 'BRA': 'class': unknown class 'brnch', did you mean 'branch'?",
           isa + ":1:1: error: isa 'volta': 'fallback': missing required field",
       })
    EXPECT_NE(msg.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n" << msg;
}

TEST(GpuHardware, MissingIsaFileIsNamed) {
  const std::string msg = load_error(kData + "missing-isa", "TEST-GPU");
  EXPECT_NE(
      msg.find("missing-isa/gpus/test-gpu.yaml:4:15: error: gpu model 'TEST-GPU': 'architecture': no ISA "
               "file " +
               kData + "missing-isa/isa/volta.yaml for architecture 'Volta'"),
      std::string::npos)
      << msg;
}

TEST(GpuHardware, UnitTheIsaUsesMustExist) {
  const std::string msg = load_error(kData + "zero-unit", "TEST-GPU");
  EXPECT_NE(
      msg.find("zero-unit/gpus/test-gpu.yaml:38:13: error: gpu model 'TEST-GPU': 'tensor': 0 units per SM, "
               "but " +
               kData + "zero-unit/isa/volta.yaml sends HMMA to them"),
      std::string::npos)
      << msg;
}
