// Roofline op durations with shape-dependent GEMM efficiency (tile and wave quantization, epilogue cost).
#include "cost/roofline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/diagnostics.hpp"

namespace whatif::cost {

namespace {

bool is_gemm(OpClass c) {
  return c == OpClass::gemm || c == OpClass::attention_gemm;
}

double ceil_div(double a, double b) {
  return std::ceil(a / b);
}

}  // namespace

RooflineModel::RooflineModel(const platform::GpuModel& gpu)
    : fp32_(gpu.fp32.value),
      fp16_(gpu.fp16 ? gpu.fp16->value : 0.0),
      fp16_tensor_(gpu.fp16_tensor ? gpu.fp16_tensor->value : 0.0),
      bf16_tensor_(gpu.bf16_tensor ? gpu.bf16_tensor->value : 0.0),
      plateau_(gpu.efficiency.gemm_plateau.value),
      tile_m_(gpu.efficiency.gemm_tile_m.value),
      tile_n_(gpu.efficiency.gemm_tile_n.value),
      k_overhead_(gpu.efficiency.gemm_k_overhead.value),
      sms_(gpu.sm_count.value),
      memory_bandwidth_(gpu.memory_bandwidth.value),
      memory_efficiency_(gpu.efficiency.memory.value),
      kernel_overhead_(gpu.efficiency.kernel_overhead.value) {
  // A GpuModel built in code without an efficiency section would divide by zero below.
  if (!(plateau_ > 0 && plateau_ <= 1 && memory_efficiency_ > 0 && memory_efficiency_ <= 1 && tile_m_ >= 1 &&
        tile_n_ >= 1 && sms_ >= 1 && memory_bandwidth_ > 0 && fp32_ > 0 && k_overhead_ >= 0 &&
        kernel_overhead_ >= 0))
    throw core::InputError(
        fmt::format("gpu model '{}': incomplete or invalid 'efficiency' data for the roofline", gpu.name));
}

double RooflineModel::peak_flops(OpClass c, Precision p) const {
  if (is_gemm(c)) {
    if (p == Precision::fp16) {
      if (fp16_tensor_ > 0) return fp16_tensor_;
      if (fp16_ > 0) return fp16_;
    }
    // bf16 needs Ampere's tensor cores; older GPUs run it (converted) on the fp32 pipeline.
    if (p == Precision::bf16 && bf16_tensor_ > 0) return bf16_tensor_;
    return fp32_;
  }
  if (p == Precision::fp16 && fp16_ > 0) return fp16_;
  return fp32_;
}

double RooflineModel::compute_efficiency(const OpWork& op) const {
  if (!is_gemm(op.op_class)) return 1.0;
  const GemmShape& s = op.shape;
  if (s.m <= 0 || s.n <= 0 || s.k <= 0) return plateau_;  // shape unknown: the large-GEMM plateau
  const double m = double(s.m), n = double(s.n), k = double(s.k);
  const double batch = s.batch > 0 ? double(s.batch) : 1.0;
  const double rows = ceil_div(m, tile_m_), cols = ceil_div(n, tile_n_);
  const double tile = (m * n) / (rows * tile_m_ * cols * tile_n_);
  const double tiles = batch * rows * cols;
  const double wave = tiles / (ceil_div(tiles, sms_) * sms_);
  const double k_factor = k / (k + plateau_ * k_overhead_);
  return plateau_ * tile * wave * k_factor;
}

double RooflineModel::memory_efficiency(const OpWork&) const {
  return memory_efficiency_;
}

double RooflineModel::duration(const OpWork& op) const {
  if (!(op.flops >= 0) || !(op.bytes >= 0) || !std::isfinite(op.flops) || !std::isfinite(op.bytes))
    throw core::InputError(fmt::format("{} op: work must be finite and non-negative (flops {}, bytes {})",
                                       to_string(op.op_class), op.flops, op.bytes));
  if (op.flops == 0 && op.bytes == 0) return 0.0;
  const double compute = op.flops / (peak_flops(op.op_class, op.precision) * compute_efficiency(op));
  const double memory = op.bytes / (memory_bandwidth_ * memory_efficiency(op));
  return std::max(compute, memory) + kernel_overhead_;
}

}  // namespace whatif::cost
