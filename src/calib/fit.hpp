// Fitting GPU model parameters from raw measurements (Eigen least squares), writing the calibrated model in
// the models/gpus schema, and checking a model against measured kernel times.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calib/measurements.hpp"
#include "platform/catalog.hpp"

namespace whatif::calib {

struct Fitted {
  double value = 0;
  std::string source;  // how it was measured and fitted, with the device, driver, clock and date
};

struct Fit {
  std::map<std::string, Fitted> peaks;    // model keys: fp64, fp32, fp16, fp16_tensor, bf16_tensor, ...
  std::map<std::string, Fitted> latency;  // microarchitecture.latency: l1, l2, dram, shared (cycles)
  std::map<std::string, Fitted> instruction_latency;  // ISA class -> cycles
  std::map<std::string, Fitted> transfer;             // h2d_pinned, ... -> B/s at the largest size
  std::optional<Fitted> sm_clock, memory_efficiency, kernel_overhead;
  std::optional<Fitted> gemm_plateau, gemm_k_overhead, gemm_tile_m, gemm_tile_n;
  double dram_bandwidth = 0, dram_intercept = 0;  // the streaming fit's slope (B/s) and intercept (s)
  double dram_rms_error = 0, gemm_rms_error = 0;  // relative, of the fitted times against the measured ones
  std::size_t dram_points = 0, gemm_points = 0;
  std::vector<std::string> notes;  // what the fit found or could not do
};

// What the measurements cannot give is left out and said in `notes`. Throws core::InputError when they were
// taken on a GPU with another SM count than the base model's.
Fit fit_measurements(const Measurements& m, const platform::GpuModel& base);

// The base model's file with every fitted value replaced (sources saying how it was measured), named `name`,
// and a `calibration:` section recording the device, driver, clock, date and measurements file.
std::string calibrated_model_yaml(const Measurements& m, const Fit& fit, const platform::GpuModel& base,
                                  const std::string& name);

struct ValidationRow {
  std::string name, kind, detail;
  double measured = 0, predicted = 0, error = 0;  // seconds; error = predicted / measured - 1
};

struct Validation {
  std::string gpu, device;
  std::vector<ValidationRow> rows;
  double worst_gemm = 0, worst_memory = 0;  // largest |error| among GEMMs and memory-bound kernels
};

// Predicts every measured kernel with the roofline cost model of `gpu`.
Validation validate_kernels(const KernelTimes& k, const platform::GpuModel& gpu);
std::string render_validation(const Validation& v);
nlohmann::json validation_json(const Validation& v);

}  // namespace whatif::calib
