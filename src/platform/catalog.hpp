// Hardware catalogs (models/): GPU, link and CPU models with the source of every value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/yaml.hpp"

namespace whatif::platform {

using core::Sourced;

// Achieved-efficiency data of a GPU model (`efficiency:` in its YAML), read by the roofline in src/cost/.
// Datasheet-derived now; a calibration run writes measured values with the same keys.
struct GpuEfficiency {
  Sourced gemm_plateau;     // fraction of the GEMM peak that large, well-shaped GEMMs reach, in (0, 1]
  Sourced gemm_tile_m;      // output tile rows per thread block (one block per SM per wave)
  Sourced gemm_tile_n;      // output tile columns per thread block
  Sourced gemm_k_overhead;  // per-tile epilogue, in K elements at the peak: factor K / (K + plateau x this)
  Sourced memory;           // fraction of the peak DRAM bandwidth streaming kernels reach, in (0, 1]
  Sourced kernel_overhead;  // seconds added to every kernel (launch gap between back-to-back kernels)
};

struct GpuModel {
  std::string name, vendor, architecture, compute_capability, memory_type, file;
  Sourced sm_count, base_clock, boost_clock, memory_size, memory_bandwidth;
  Sourced l1_per_sm, shared_per_sm, l2;
  Sourced fp64, fp32, tdp;
  std::optional<Sourced> fp64_tensor, fp16, fp16_tensor, bf16_tensor, int8_tensor;
  GpuEfficiency efficiency;

  // The fastest half-precision rate (tensor cores when present): the speed of the GPU's SimGrid host.
  double half_precision_peak() const;
};

struct LinkModel {
  std::string name, kind, file;
  Sourced bandwidth;  // per direction, one link
  Sourced latency;    // one hop
};

struct CpuModel {
  std::string name, vendor, file;
  Sourced cores, clock, peak_fp64, memory_bandwidth;
};

extern const std::vector<std::string> kLinkKinds;

class Catalog {
 public:
  // Loads every YAML file of dir/gpus, dir/links and dir/cpus; problems go to `diag`.
  static Catalog load(const std::string& dir, core::Diagnostics& diag);

  const GpuModel* gpu(const std::string& name) const;
  const LinkModel* link(const std::string& name) const;
  const CpuModel* cpu(const std::string& name) const;
  std::vector<std::string> gpu_names() const;
  std::vector<std::string> link_names() const;
  std::vector<std::string> cpu_names() const;
  const std::string& dir() const { return dir_; }

 private:
  static Catalog read(const std::string& dir, core::Diagnostics& diag);

  std::string dir_;
  std::map<std::string, GpuModel> gpus_;
  std::map<std::string, LinkModel> links_;
  std::map<std::string, CpuModel> cpus_;
};

// Finds the models/ folder for an input file: $WHATIF_MODELS, else the nearest models/ folder in the file's
// directory or one of its parents, else next to the executable's build or install location.
std::string find_models_dir(const std::string& input_file);

// Reads one GPU model file (a catalog file, or a calibrated model written anywhere); throws core::InputError.
GpuModel load_gpu_model_file(const std::string& path);

// Reads one link model's fields (shared by catalog files and platform-local link definitions).
std::optional<LinkModel> read_link_fields(core::MapReader& r, bool require_sources);

}  // namespace whatif::platform
