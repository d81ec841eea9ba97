// Layout rules (Megatron-LM's constraints on t, p, d, b, B, v) and rank-to-GPU placement.
#include "training/layout.hpp"

#include <fmt/format.h>

namespace whatif::training {

std::vector<std::string> layout_errors(const ParallelLayout& l, const LayoutContext& c) {
  std::vector<std::string> errors;
  auto add = [&](std::string message) { errors.push_back(std::move(message)); };
  if (l.tensor < 1 || l.pipeline < 1 || l.data < 1 || l.micro_batch < 1 || l.global_batch < 1 ||
      l.virtual_stages < 1) {
    add("tensor, pipeline, data, micro_batch, global_batch and virtual_stages must all be at least 1");
    return errors;
  }
  if (c.gpus > 0 && l.gpus() != c.gpus)
    add(
        fmt::format("tensor x pipeline x data = {} x {} x {} = {} GPUs, but {} GPUs are placed (every GPU of "
                    "the platform unless the placement selects some)",
                    l.tensor, l.pipeline, l.data, l.gpus(), c.gpus));
  long per_step = static_cast<long>(l.micro_batch) * l.data;
  if (l.global_batch % per_step != 0)
    add(fmt::format("global_batch ({}) must be divisible by micro_batch x data ({} x {} = {})",
                    l.global_batch, l.micro_batch, l.data, per_step));
  long stages = static_cast<long>(l.pipeline) * l.virtual_stages;
  if (c.layers > 0 && c.layers % stages != 0)
    add(fmt::format("layers ({}) must be divisible by pipeline x virtual_stages ({} x {} = {})", c.layers,
                    l.pipeline, l.virtual_stages, stages));
  if (c.heads > 0 && c.heads % l.tensor != 0)
    add(fmt::format("attention heads ({}) must be divisible by tensor ({})", c.heads, l.tensor));
  if (c.hidden > 0 && c.hidden % l.tensor != 0)
    add(fmt::format("hidden size ({}) must be divisible by tensor ({})", c.hidden, l.tensor));
  if (c.ffn > 0 && c.ffn % l.tensor != 0)
    add(fmt::format("ffn size ({}) must be divisible by tensor ({})", c.ffn, l.tensor));
  if (l.virtual_stages > 1 && c.schedule != "interleaved-1f1b")
    add(fmt::format("virtual_stages ({}) needs the interleaved-1f1b schedule, not {}", l.virtual_stages,
                    c.schedule));
  int m = l.global_batch % per_step == 0 ? l.micro_batches() : 0;
  if (c.schedule == "interleaved-1f1b" && m > 0 && m % l.pipeline != 0)
    add(fmt::format(
        "interleaved-1f1b needs the micro-batches per pipeline (m = B / (b x d) = {}) to be a multiple "
        "of pipeline ({})",
        m, l.pipeline));
  if (c.schedule == "chimera") {
    if (l.pipeline % 2 != 0)
      add(fmt::format("chimera needs an even number of pipeline stages, got pipeline = {}", l.pipeline));
    if (m > 0 && m % 2 != 0)
      add(fmt::format("chimera feeds half of the micro-batches to each direction: m = {} must be even", m));
  }
  if (l.zero_stage != 0 && l.zero_stage != 1)
    add(fmt::format("zero stage {} is not modelled (0 or 1)", l.zero_stage));
  if (!(l.bucket_bytes > 0)) add("gradient bucket size must be positive");
  bool seen[3] = {false, false, false};
  for (Axis a : l.order)
    seen[static_cast<int>(a)] = true;
  if (!seen[0] || !seen[1] || !seen[2]) add("placement order must name tensor, pipeline and data once each");
  return errors;
}

std::vector<std::string> layout_warnings(const ParallelLayout& l, const LayoutContext& c) {
  std::vector<std::string> warnings;
  if (c.gpus_per_node > 0 && l.order[0] == Axis::tensor && l.tensor > c.gpus_per_node)
    warnings.push_back(
        fmt::format("tensor = {} spans more than one node ({} GPUs per node): its allreduces cross "
                    "the network",
                    l.tensor, c.gpus_per_node));
  if (c.gpus_per_node > 0 && l.order[0] != Axis::tensor && l.tensor > 1)
    warnings.push_back("tensor ranks are not placed fastest: tensor-parallel allreduces may leave the node");
  return warnings;
}

namespace {
int degree(const ParallelLayout& l, Axis a) {
  return a == Axis::tensor ? l.tensor : a == Axis::pipeline ? l.pipeline : l.data;
}
int& coord(RankCoord& c, Axis a) {
  return a == Axis::tensor ? c.tensor : a == Axis::pipeline ? c.pipeline : c.data;
}
}  // namespace

long gpu_of(const ParallelLayout& l, const RankCoord& c) {
  long gpu = 0, stride = 1;
  RankCoord copy = c;
  for (Axis a : l.order) {
    gpu += stride * coord(copy, a);
    stride *= degree(l, a);
  }
  return gpu;
}

RankCoord coord_of(const ParallelLayout& l, long gpu) {
  RankCoord c;
  for (Axis a : l.order) {
    coord(c, a) = static_cast<int>(gpu % degree(l, a));
    gpu /= degree(l, a);
  }
  return c;
}

std::string to_string(Recompute r) {
  switch (r) {
    case Recompute::none:
      return "none";
    case Recompute::selective:
      return "selective";
    case Recompute::full:
      return "full";
  }
  return "?";
}

Recompute parse_recompute(const std::string& name) {
  if (name == "none") return Recompute::none;
  if (name == "selective") return Recompute::selective;
  if (name == "full") return Recompute::full;
  throw core::InputError(fmt::format("unknown recompute mode '{}'{} (none, selective, full)", name,
                                     core::did_you_mean(name, {"none", "selective", "full"})));
}

std::string to_string(Axis a) {
  return a == Axis::tensor ? "tensor" : a == Axis::pipeline ? "pipeline" : "data";
}

}  // namespace whatif::training
