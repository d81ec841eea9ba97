// Roofline op durations on a catalog GPU model, with achieved-efficiency curves (GEMM efficiency by shape).
#pragma once

#include "cost/op.hpp"
#include "platform/catalog.hpp"

namespace whatif::cost {

// One kernel's worth of work. `shape` is only read for GEMM classes; all zero means "shape unknown".
struct OpWork {
  OpClass op_class = OpClass::elementwise;
  Precision precision = Precision::fp16;
  double flops = 0;
  double bytes = 0;  // device-memory traffic: operands read + results written
  GemmShape shape;
};

// time = max(flops / (peak x compute efficiency), bytes / (bandwidth x memory efficiency)) + kernel overhead.
//
// GEMM compute efficiency is mechanistic (NVIDIA "Matrix Multiplication Background User's Guide", ch. 3):
//   plateau x tile x wave x K / (K + plateau x k_overhead)
// - tile: m·n / (⌈m/Tm⌉·Tm · ⌈n/Tn⌉·Tn), the useful share of the padded output tiles;
// - wave: tiles / (⌈tiles / SMs⌉ · SMs), one tile per SM per wave, so a last partial wave idles SMs;
// - K term: each tile's epilogue (all SMs storing their output at once) does not overlap its main loop;
//   k_overhead is that store time in K elements at the peak rate, which makes the factor exact for the
//   time waves × (main loop at plateau + epilogue).
// Other op classes run at the CUDA-core peak (compute efficiency 1: they are memory-bound by far).
// All fractions and tile sizes come from the GPU model's `efficiency:` section (models/README.md).
class RooflineModel {
 public:
  explicit RooflineModel(const platform::GpuModel& gpu);

  // Seconds, >= 0; 0 for an op with no work (no kernel). Throws core::InputError for negative work.
  double duration(const OpWork& op) const;
  // Achieved fraction of peak_flops() for this op (shape-dependent for GEMMs), in (0, 1].
  double compute_efficiency(const OpWork& op) const;
  // Achieved fraction of the DRAM bandwidth, in (0, 1].
  double memory_efficiency(const OpWork& op) const;
  // GEMM classes: the tensor-core peak for fp16/bf16, else fp16 on CUDA cores (fp16 only), else fp32.
  // Other classes: fp16 on CUDA cores for fp16 when the GPU lists it, else fp32 (bf16 included).
  double peak_flops(OpClass c, Precision p) const;
  // Seconds added to every kernel.
  double kernel_overhead() const { return kernel_overhead_; }

 private:
  // Peaks copied from the model (0 when the GPU has none), so the model need not outlive this object.
  double fp32_, fp16_, fp16_tensor_, bf16_tensor_;
  double plateau_, tile_m_, tile_n_, k_overhead_, sms_;
  double memory_bandwidth_, memory_efficiency_, kernel_overhead_;
};

}  // namespace whatif::cost
