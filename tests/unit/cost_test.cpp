// Unit tests of the roofline cost model and the GPU models' efficiency data (no SimGrid engine).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "core/diagnostics.hpp"
#include "cost/roofline.hpp"
#include "platform/catalog.hpp"

using whatif::core::Diagnostics;
using whatif::core::InputError;
using whatif::cost::GemmShape;
using whatif::cost::OpClass;
using whatif::cost::OpWork;
using whatif::cost::Precision;
using whatif::cost::RooflineModel;
using whatif::platform::Catalog;
using whatif::platform::GpuModel;

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kShippedGpus = {"P100-SXM2-16GB", "V100-SXM2-16GB", "V100-SXM2-32GB",
                                               "TITAN-V",        "A100-SXM4-40GB", "A100-SXM4-80GB",
                                               "H100-SXM5-80GB", "H200-SXM-141GB"};

const Catalog& catalog() {
  static const Catalog c = [] {
    Diagnostics diag;
    Catalog loaded = Catalog::load("models", diag);
    for (const auto& d : diag.items())
      ADD_FAILURE() << d.format();
    return loaded;
  }();
  return c;
}

const GpuModel& gpu(const std::string& name) {
  const GpuModel* g = catalog().gpu(name);
  if (g == nullptr) throw std::runtime_error("GPU model not in the catalog: " + name);
  return *g;
}

// C[m x n] = A[m x k] B[k x n] in 16-bit: 2mnk flops; A and B read once, C written once.
OpWork gemm(std::int64_t m, std::int64_t n, std::int64_t k, Precision p = Precision::fp16) {
  const double e = p == Precision::fp32 ? 4.0 : 2.0;
  OpWork op{OpClass::gemm, p, 2.0 * m * n * k, e * double(m * k + k * n + m * n), GemmShape{m, n, k, 1}};
  return op;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scratch catalog holding one GPU file, loaded like models/; returns every diagnostic, formatted.
std::string load_scratch_gpu(const std::string& yaml) {
  fs::path dir = fs::temp_directory_path() / ("whatif-cost-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"gpus", "links", "cpus"})
    fs::create_directories(dir / sub);
  std::ofstream(dir / "gpus" / "test-gpu.yaml") << yaml;
  Diagnostics diag;
  Catalog::load(dir.string(), diag);
  fs::remove_all(dir);
  std::string out;
  for (const auto& d : diag.items())
    out += d.format() + "\n";
  return out;
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("not found in the GPU file: " + from);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST(CostCatalog, EveryShippedGpuLoadsWithEfficiencyData) {
  for (const auto& name : kShippedGpus) {
    SCOPED_TRACE(name);
    const GpuModel& g = gpu(name);
    const auto& e = g.efficiency;
    for (const auto* v :
         {&e.gemm_plateau, &e.gemm_tile_m, &e.gemm_tile_n, &e.gemm_k_overhead, &e.memory, &e.kernel_overhead})
      EXPECT_FALSE(v->source.empty());
    EXPECT_GT(e.gemm_plateau.value, 0.5);
    EXPECT_LE(e.gemm_plateau.value, 1.0);
    EXPECT_GT(e.memory.value, 0.5);
    EXPECT_LE(e.memory.value, 1.0);
    EXPECT_GE(e.gemm_tile_m.value, 64);
    EXPECT_GE(e.gemm_tile_n.value, 64);
    EXPECT_GT(e.kernel_overhead.value, 0.5e-6);
    EXPECT_LT(e.kernel_overhead.value, 20e-6);
    RooflineModel model(g);
    // A large aligned GEMM reaches most of the plateau on every GPU.
    double eff = model.compute_efficiency(gemm(8192, 8192, 8192));
    EXPECT_GT(eff, 0.9 * e.gemm_plateau.value);
    EXPECT_LE(eff, e.gemm_plateau.value);
  }
  EXPECT_DOUBLE_EQ(gpu("A100-SXM4-80GB").efficiency.kernel_overhead.value, 2.7e-6);
  EXPECT_DOUBLE_EQ(gpu("A100-SXM4-80GB").efficiency.gemm_plateau.value, 0.908);
}

TEST(CostRoofline, LargeAlignedFp16GemmOnA100RunsAtThePlateau) {
  RooflineModel a100(gpu("A100-SXM4-80GB"));
  // 3456 x 9216 output = 27 x 36 = 972 tiles of 128x256 = exactly 9 waves on 108 SMs: no tile or wave
  // loss. The epilogue term with K = 65536: K / (K + 0.908 x 180) = 65536 / 65699.44 = 0.99751.
  OpWork op = gemm(3456, 9216, 65536);
  const double k_factor = 65536.0 / (65536.0 + 0.908 * 180.0);
  EXPECT_NEAR(a100.compute_efficiency(op), 0.908 * k_factor, 1e-12);
  EXPECT_DOUBLE_EQ(a100.peak_flops(OpClass::gemm, Precision::fp16), 312e12);
  EXPECT_DOUBLE_EQ(a100.peak_flops(OpClass::gemm, Precision::bf16), 312e12);
  // 4.175e12 flops at 0.908 x 0.99751 x 312 TF = 282.6 TF: 14.77 ms, far above the 3.3 GB of traffic
  // at 0.85 x 2039 GB/s (1.9 ms); plus the 2.7 us launch gap.
  const double expected = op.flops / (312e12 * 0.908 * k_factor) + 2.7e-6;
  EXPECT_NEAR(a100.duration(op), expected, 1e-12);
  EXPECT_NEAR(op.flops / (a100.duration(op) - 2.7e-6), 0.908 * 312e12, 0.003 * 312e12);
}

TEST(CostRoofline, OneTileMoreThanAFullWavePaysASecondWave) {
  RooflineModel a100(gpu("A100-SXM4-80GB"));
  // m = 128 (one tile row), n = 108 x 256 = 27648: 108 tiles, one full wave on 108 SMs.
  // n = 109 x 256 = 27904: 109 tiles, 2 waves of which the second runs 1 tile: wave factor 109 / 216.
  OpWork full = gemm(128, 108 * 256, 8192);
  OpWork plus_one = gemm(128, 109 * 256, 8192);
  const double k_factor = 8192.0 / (8192.0 + 0.908 * 180.0);  // 0.98044
  EXPECT_NEAR(a100.compute_efficiency(full), 0.908 * k_factor, 1e-12);
  EXPECT_NEAR(a100.compute_efficiency(plus_one), 0.908 * k_factor * 109.0 / 216.0, 1e-12);
  // The compute time doubles for 1/108 more work: (109/108) x (216/109) = 2.
  // 108 tiles: 5.798e10 flops / (312e12 x 0.908 x 0.98044) = 208.8 us of compute, but 4.62e8 B at
  //            1733 GB/s = 266.7 us of memory traffic bound it: 266.7 + 2.7 = 269.4 us.
  // 109 tiles: 2 x 208.8 = 417.5 us of compute (memory 269.1 us): 417.5 + 2.7 = 420.2 us.
  const double compute_full = full.flops / (312e12 * a100.compute_efficiency(full));
  EXPECT_NEAR(a100.duration(full), full.bytes / (2039e9 * 0.85) + 2.7e-6, 1e-12);
  EXPECT_NEAR(a100.duration(plus_one), 2 * compute_full + 2.7e-6, 1e-12);
  EXPECT_NEAR(a100.duration(plus_one), 420.2e-6, 0.1e-6);
}

TEST(CostRoofline, ElementwiseOpIsMemoryBound) {
  RooflineModel a100(gpu("A100-SXM4-80GB"));
  // 1 GiB of traffic (read 512 MiB, write 512 MiB of fp16), one flop per element: 2^30 B at
  // 0.85 x 2039 GB/s = 619.5 us, plus 2.7 us = 622.2 us; the flops would take 14 us at 78 TF.
  OpWork op{OpClass::elementwise, Precision::fp16, double(1 << 28), double(1 << 30), {}};
  EXPECT_DOUBLE_EQ(a100.compute_efficiency(op), 1.0);
  EXPECT_DOUBLE_EQ(a100.memory_efficiency(op), 0.85);
  EXPECT_DOUBLE_EQ(a100.peak_flops(OpClass::elementwise, Precision::fp16), 78e12);
  EXPECT_DOUBLE_EQ(a100.peak_flops(OpClass::layernorm, Precision::bf16), 19.5e12);
  EXPECT_NEAR(a100.duration(op), double(1 << 30) / (0.85 * 2039e9) + 2.7e-6, 1e-15);
  EXPECT_NEAR(a100.duration(op), 622.2e-6, 0.1e-6);
  // No work, no kernel.
  EXPECT_EQ(a100.duration(OpWork{OpClass::softmax, Precision::fp16, 0, 0, {}}), 0.0);
  EXPECT_THROW(a100.duration(OpWork{OpClass::softmax, Precision::fp16, -1, 0, {}}), InputError);
}

TEST(CostRoofline, P100HasNoTensorCores) {
  RooflineModel p100(gpu("P100-SXM2-16GB"));
  EXPECT_DOUBLE_EQ(p100.peak_flops(OpClass::gemm, Precision::fp32), 10.6e12);
  EXPECT_DOUBLE_EQ(p100.peak_flops(OpClass::gemm, Precision::fp16), 21.2e12);  // half2 on CUDA cores
  EXPECT_DOUBLE_EQ(p100.peak_flops(OpClass::attention_gemm, Precision::bf16), 10.6e12);
  // 7168 x 7168 = 56 x 56 tiles of 128x128 = 3136 = exactly 56 waves on 56 SMs; K = 8192:
  // efficiency 0.755 x 8192 / (8192 + 0.755 x 42) = 0.75119; 8.42e11 flops / (10.6e12 x 0.75119)
  // = 105.7 ms (memory: 0.68 GB at 499 GB/s = 1.4 ms) + 2.2 us.
  OpWork op = gemm(7168, 7168, 8192, Precision::fp32);
  const double eff = 0.755 * 8192.0 / (8192.0 + 0.755 * 42.0);
  EXPECT_NEAR(p100.compute_efficiency(op), eff, 1e-12);
  EXPECT_NEAR(p100.duration(op), op.flops / (10.6e12 * eff) + 2.2e-6, 1e-12);
  // Volta has fp16 tensor cores but no bf16 ones.
  RooflineModel v100(gpu("V100-SXM2-32GB"));
  EXPECT_DOUBLE_EQ(v100.peak_flops(OpClass::gemm, Precision::fp16), 125e12);
  EXPECT_DOUBLE_EQ(v100.peak_flops(OpClass::gemm, Precision::bf16), 15.7e12);
}

TEST(CostRoofline, GemmEfficiencyGrowsWithSize) {
  for (const auto& name : kShippedGpus) {
    SCOPED_TRACE(name);
    RooflineModel model(gpu(name));
    // Quantization makes efficiency saw-toothed between sizes, but the time never drops as a square GEMM
    // grows, and efficiency rises along powers of two.
    double previous_time = 0, previous_eff = 0;
    for (std::int64_t n = 128; n <= 16384; n += 128) {
      double t = model.duration(gemm(n, n, n));
      EXPECT_GE(t, previous_time) << n;
      previous_time = t;
    }
    for (std::int64_t n = 256; n <= 32768; n *= 2) {
      double eff = model.compute_efficiency(gemm(n, n, n));
      EXPECT_GE(eff, previous_eff - 1e-12) << n;
      previous_eff = eff;
    }
    EXPECT_GT(model.compute_efficiency(gemm(8192, 8192, 8192)),
              2 * model.compute_efficiency(gemm(512, 512, 512)));
    // Small K pays the epilogue: K = 64 is well below K = 4096 at the same output shape.
    EXPECT_LT(model.compute_efficiency(gemm(8192, 8192, 64)),
              0.8 * model.compute_efficiency(gemm(8192, 8192, 4096)));
  }
}

TEST(CostRoofline, A100ExampleDurations) {
  RooflineModel a100(gpu("A100-SXM4-80GB"));
  // 8192^3: 64 x 32 = 2048 tiles, 19 waves of 108 (wave factor 2048 / 2052), K factor
  // 8192 / (8192 + 163.44): efficiency 0.908 x 0.99805 x 0.98044 = 0.88850; 1.0995e12 flops at
  // 277.2 TF = 3.9663 ms + 2.7 us = 3.9690 ms (277.0 TF achieved).
  EXPECT_NEAR(a100.duration(gemm(8192, 8192, 8192)), 3.9690e-3, 0.0005e-3);
  // The 145.6B model's QKV GEMM on one of 8 tensor ranks (b = 2, s = 2048, h = 12288):
  // 4096 x 4608 x 12288: 32 x 18 = 576 tiles, 6 waves (wave factor 576 / 648), K factor 0.98688:
  // efficiency 0.79652; 4.638e11 flops / 248.5 TF = 1.8665 ms + 2.7 us = 1.8692 ms.
  OpWork qkv = gemm(4096, 4608, 12288);
  EXPECT_NEAR(a100.compute_efficiency(qkv), 0.908 * (576.0 / 648.0) * 12288.0 / (12288.0 + 0.908 * 180.0),
              1e-12);
  EXPECT_NEAR(a100.duration(qkv), 1.8692e-3, 0.0005e-3);
}

TEST(CostCatalog, InvalidEfficiencyValuesAreRejected) {
  const std::string a100 = read_text("models/gpus/a100-sxm4-80gb.yaml");
  ASSERT_FALSE(a100.empty());
  EXPECT_EQ(load_scratch_gpu(a100), "");

  std::string too_big =
      load_scratch_gpu(replace_once(a100, "plateau: {value: 0.908,", "plateau: {value: 1.2,"));
  EXPECT_NE(too_big.find("'plateau': must be a fraction of the peak in (0, 1], got 1.2"), std::string::npos)
      << too_big;

  std::string negative =
      load_scratch_gpu(replace_once(a100, "memory: {value: 0.850,", "memory: {value: -0.5,"));
  EXPECT_NE(negative.find("must be positive, got '-0.5'"), std::string::npos) << negative;

  std::string percent =
      load_scratch_gpu(replace_once(a100, "memory: {value: 0.850,", "memory: {value: 150%,"));
  EXPECT_NE(percent.find("'memory': must be a fraction of the peak in (0, 1], got 1.5"), std::string::npos)
      << percent;

  std::string typo = load_scratch_gpu(replace_once(a100, "    plateau:", "    platau:"));
  EXPECT_NE(typo.find("'platau': unknown field, did you mean 'plateau'?"), std::string::npos) << typo;

  std::string missing = load_scratch_gpu(a100.substr(0, a100.find("efficiency:")));
  EXPECT_NE(missing.find("'efficiency': missing required field"), std::string::npos) << missing;

  std::string no_tile = load_scratch_gpu(replace_once(a100, "tile_n: {value: 256,", "tile_n: {value: 0,"));
  EXPECT_NE(no_tile.find("'value': 0 is out of range"), std::string::npos) << no_tile;
}
