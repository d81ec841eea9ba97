// Unit tests of 3D-parallel layout rules and rank placement.
#include <gtest/gtest.h>

#include "training/layout.hpp"

using namespace whatif::training;

namespace {
bool mentions(const std::vector<std::string>& messages, const std::string& text) {
  for (const auto& m : messages)
    if (m.find(text) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST(Layout, MegatronTableOneLayoutIsValid) {
  // 145.6B: t = 8, p = 8, 1536 GPUs -> d = 24; B = 2304, b = 2 -> m = 48 (a multiple of p); 80 layers, v = 2
  // chunks of 5 layers per device: 80 / (8 x 2) = 5.
  ParallelLayout l;
  l.tensor = 8, l.pipeline = 8, l.data = 24, l.micro_batch = 2, l.global_batch = 2304, l.virtual_stages = 2;
  LayoutContext c{80, 12288, 96, 4 * 12288, "interleaved-1f1b", 1536, 8};
  EXPECT_TRUE(layout_errors(l, c).empty());
  EXPECT_EQ(l.micro_batches(), 48);
  EXPECT_TRUE(layout_warnings(l, c).empty());
}

TEST(Layout, EveryRuleHasItsMessage) {
  ParallelLayout l;
  l.tensor = 3, l.pipeline = 5, l.data = 2, l.micro_batch = 4, l.global_batch = 100, l.virtual_stages = 2;
  LayoutContext c{24, 1000, 16, 4000, "chimera", 32, 8};
  auto errors = layout_errors(l, c);
  EXPECT_TRUE(mentions(errors, "tensor x pipeline x data = 3 x 5 x 2 = 30 GPUs, but 32 GPUs are placed"));
  EXPECT_TRUE(mentions(errors, "global_batch (100) must be divisible by micro_batch x data (4 x 2 = 8)"));
  EXPECT_TRUE(mentions(errors, "layers (24) must be divisible by pipeline x virtual_stages (5 x 2 = 10)"));
  EXPECT_TRUE(mentions(errors, "attention heads (16) must be divisible by tensor (3)"));
  EXPECT_TRUE(mentions(errors, "hidden size (1000) must be divisible by tensor (3)"));
  EXPECT_TRUE(mentions(errors, "virtual_stages (2) needs the interleaved-1f1b schedule, not chimera"));
  EXPECT_TRUE(mentions(errors, "chimera needs an even number of pipeline stages, got pipeline = 5"));

  ParallelLayout i;
  i.pipeline = 4, i.data = 1, i.micro_batch = 1, i.global_batch = 6, i.virtual_stages = 2;
  auto interleaved = layout_errors(i, {8, 64, 8, 256, "interleaved-1f1b", 4, 8});
  ASSERT_EQ(interleaved.size(), 1u);
  EXPECT_EQ(interleaved[0],
            "interleaved-1f1b needs the micro-batches per pipeline (m = B / (b x d) = 6) to be a multiple of "
            "pipeline (4)");
}

TEST(Layout, PlacementDefaultsToTensorInsideNodes) {
  ParallelLayout l;
  l.tensor = 4, l.pipeline = 2, l.data = 3;
  // Default order tensor, pipeline, data: gpu = t + 4 (p + 2 d).
  EXPECT_EQ(gpu_of(l, {1, 0, 0}), 1);
  EXPECT_EQ(gpu_of(l, {0, 1, 0}), 4);
  EXPECT_EQ(gpu_of(l, {3, 1, 2}), 3 + 4 * (1 + 2 * 2));
  for (long g = 0; g < l.gpus(); ++g)
    EXPECT_EQ(gpu_of(l, coord_of(l, g)), g);
  l.order = {Axis::data, Axis::tensor, Axis::pipeline};
  // gpu = d + 3 (t + 4 p)
  EXPECT_EQ(gpu_of(l, {1, 1, 2}), 2 + 3 * (1 + 4 * 1));
  for (long g = 0; g < l.gpus(); ++g)
    EXPECT_EQ(gpu_of(l, coord_of(l, g)), g);
  EXPECT_FALSE(layout_warnings(l, {0, 0, 0, 0, "1f1b", 24, 8}).empty());
}

TEST(Layout, RecomputeNames) {
  EXPECT_EQ(parse_recompute("selective"), Recompute::selective);
  EXPECT_EQ(to_string(Recompute::full), "full");
  EXPECT_THROW(parse_recompute("ful"), whatif::core::InputError);
}
