// Op cost models by name: the roofline prices every op; an op can instead take its time from a traced kernel
// predicted by the kernel model ("kernel-trace"). Workloads ask the registry, not a model directly.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cost/roofline.hpp"

namespace whatif::cost {

class CostRegistry {
 public:
  explicit CostRegistry(const platform::GpuModel& gpu) : roofline_(gpu) {}

  // From now on the op named `op` ("qkv", "mlp-fc1.dgrad", ...) costs `seconds` each time it runs; `source`
  // says where the figure comes from (shown in reports).
  void use_kernel_trace(const std::string& op, double seconds, std::string source);

  // The op's duration: its kernel-trace figure when it has one, else the roofline's.
  double duration(std::string_view op, const OpWork& work) const;

  const RooflineModel& roofline() const { return roofline_; }
  // "op: model (source)" for every op not priced by the roofline.
  std::vector<std::string> describe() const;

 private:
  struct Fixed {
    double seconds;
    std::string source;
  };
  RooflineModel roofline_;
  std::map<std::string, Fixed, std::less<>> fixed_;
};

// Seconds the kernel model predicts for `kernels` (empty: all) of the trace folder, run one after another on
// catalog GPU `gpu`. Throws core::InputError for a bad trace or a GPU without a micro-architecture.
double kernel_trace_seconds(const std::string& trace_dir, const std::vector<int>& kernels,
                            const std::string& models_dir, const std::string& gpu);

}  // namespace whatif::cost
