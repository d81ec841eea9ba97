// The op cost registry: roofline by default, kernel-trace figures where a workload names them.
#include "cost/registry.hpp"

#include <fmt/format.h>

#include "gpu/hardware.hpp"
#include "gpu/model.hpp"
#include "gpu/trace.hpp"

namespace whatif::cost {

void CostRegistry::use_kernel_trace(const std::string& op, double seconds, std::string source) {
  fixed_[op] = {seconds, std::move(source)};
}

double CostRegistry::duration(std::string_view op, const OpWork& work) const {
  if (auto it = fixed_.find(op); it != fixed_.end()) return it->second.seconds;
  return roofline_.duration(work);
}

std::vector<std::string> CostRegistry::describe() const {
  std::vector<std::string> out;
  for (const auto& [op, f] : fixed_)
    out.push_back(fmt::format("{}: kernel-trace, {:.3f} us ({})", op, f.seconds * 1e6, f.source));
  return out;
}

double kernel_trace_seconds(const std::string& trace_dir, const std::vector<int>& kernels,
                            const std::string& models_dir, const std::string& gpu) {
  const gpu::GpuHardware hw = gpu::load_gpu_hardware(models_dir, gpu);
  return gpu::predict_application(gpu::read_trace_dir(trace_dir, kernels), hw).seconds;
}

}  // namespace whatif::cost
