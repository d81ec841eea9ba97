// 3D-parallel layouts: tensor x pipeline x data degrees, batch split, their validation and rank placement.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"

namespace whatif::training {

enum class Recompute { none, selective, full };
enum class Axis { tensor, pipeline, data };

struct ParallelLayout {
  int tensor = 1, pipeline = 1, data = 1;
  int micro_batch = 1;     // b: sequences per micro-batch
  int global_batch = 1;    // B: sequences per iteration
  int virtual_stages = 1;  // v: model chunks per device (interleaved 1F1B)
  Recompute recompute = Recompute::none;
  int zero_stage = 0;                  // 0 or 1 (optimizer states sharded over data-parallel ranks)
  double bucket_bytes = 25.0 * 1e6;    // gradient allreduce bucket (PyTorch DDP's default 25 MB)
  bool overlap_grad_allreduce = true;  // data-parallel allreduce overlaps the backward pass
  // Rank placement, fastest-varying axis first: the default keeps tensor ranks inside a node.
  std::array<Axis, 3> order{Axis::tensor, Axis::pipeline, Axis::data};

  int gpus() const { return tensor * pipeline * data; }
  // m: micro-batches each pipeline processes per iteration.
  int micro_batches() const { return global_batch / (micro_batch * data); }
};

// What the layout is checked against: the model's shape, the schedule and the GPUs available.
struct LayoutContext {
  int layers = 0, hidden = 0, heads = 0, ffn = 0;
  std::string schedule;  // gpipe | 1f1b | interleaved-1f1b | chimera
  long gpus = 0;
  int gpus_per_node = 0;
};

// Every rule a layout must satisfy, each broken one reported as its own message (empty when valid).
std::vector<std::string> layout_errors(const ParallelLayout& layout, const LayoutContext& context);
// Advice that does not make the layout invalid (e.g. tensor groups spanning nodes).
std::vector<std::string> layout_warnings(const ParallelLayout& layout, const LayoutContext& context);

// Coordinates of a model-parallel rank.
struct RankCoord {
  int tensor = 0, pipeline = 0, data = 0;
};

// The GPU (0..gpus-1, in the platform's GPU order) that runs the rank at `c`, following layout.order.
long gpu_of(const ParallelLayout& layout, const RankCoord& c);
RankCoord coord_of(const ParallelLayout& layout, long gpu);

std::string to_string(Recompute r);
Recompute parse_recompute(const std::string& name);  // throws core::InputError
std::string to_string(Axis a);

}  // namespace whatif::training
