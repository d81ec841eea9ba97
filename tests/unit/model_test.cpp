// Unit tests of the transformer workload model: presets, Megatron's counts, op decomposition and memory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "core/diagnostics.hpp"
#include "training/model.hpp"

using namespace whatif::training;
using whatif::core::InputError;

namespace {

const char* const kTableOne[] = {"megatron-1.7b",   "megatron-3.6b",  "megatron-7.5b",   "megatron-18.4b",
                                 "megatron-39.1b",  "megatron-76.1b", "megatron-145.6b", "megatron-310.1b",
                                 "megatron-529.6b", "megatron-1t"};

// The message an InputError carries, or "" when `f` does not throw one.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Total GEMM FLOPs of one iteration over all GPUs from the op decomposition: every tensor rank of every
// pipeline runs its shard of every layer for every micro-batch; the B/b micro-batches are spread over the
// data-parallel replicas, and the embedding and output blocks run once per micro-batch.
double decomposed_flops(const TransformerConfig& cfg, int global_batch, int micro_batch, int tensor,
                        Recompute rc) {
  auto gemm = [](const BlockOps& ops) {
    return totals(ops.forward).gemm_flops + totals(ops.backward).gemm_flops;
  };
  const double per_micro_batch = cfg.layers * gemm(layer_ops(cfg, micro_batch, tensor, rc)) +
                                 gemm(embedding_ops(cfg, micro_batch, tensor)) +
                                 gemm(output_ops(cfg, micro_batch, tensor));
  return per_micro_batch * tensor * (double(global_batch) / micro_batch);
}

// Megatron-LM SC21 appendix, literally: F = 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)).
double megatron_full_formula(const TransformerConfig& c, double B) {
  const double s = c.sequence, l = c.layers, h = c.hidden, V = c.vocabulary;
  return 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
}

// Without recomputation the layers cost 3 forwards instead of 4 and the logits keep their 6·B·s·h·V:
// F = 72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h)) (Korthikanti et al.'s "model FLOPs").
double megatron_none_formula(const TransformerConfig& c, double B) {
  const double s = c.sequence, l = c.layers, h = c.hidden, V = c.vocabulary;
  return 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
}

TransformerConfig tiny() {
  TransformerConfig c;
  c.name = "tiny";
  c.layers = 4, c.hidden = 64, c.heads = 4, c.sequence = 32, c.vocabulary = 1000;
  c.precision = Precision::fp16;
  return c;
}

const Op& find_op(const std::vector<Op>& ops, const std::string& name) {
  for (const auto& op : ops)
    if (op.name == name) return op;
  ADD_FAILURE() << "no op " << name;
  static Op none;
  return none;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Presets and parameter counts

TEST(ModelPresets, TableOneParameterCounts) {
  // The table prints billions to one decimal, so the formula must land within half a unit of its last
  // digit (0.05 B) for every row. Relative errors: 1.7b -2.81 %, 3.6b -1.05 %, 7.5b -0.43 %, 18.4b +0.27 %,
  // the rest below 0.07 %. The two smallest differ by more than 1 % only because 1.652 B and 3.562 B are
  // printed as 1.7 and 3.6; for them the exact formula value is asserted as well.
  std::printf("  %-16s %16s %10s %9s\n", "preset", "formula (B)", "paper (B)", "error");
  for (const char* name : kTableOne) {
    const ModelPreset& p = model_preset(name);
    const TransformerConfig& c = p.model;
    const double s = c.sequence, l = c.layers, h = c.hidden, V = c.vocabulary;
    const double formula = 12 * l * h * h * (1 + 13 / (12 * h) + (V + s) / (12 * l * h));
    const double P = parameter_count(c);
    EXPECT_NEAR(P / formula, 1.0, 1e-12) << name;
    const double error = (P - p.paper_parameters) / p.paper_parameters;
    std::printf("  %-16s %16.4f %10.1f %+8.3f%%\n", name, P / 1e9, p.paper_parameters / 1e9, 100 * error);
    EXPECT_LE(std::abs(P - p.paper_parameters), 0.05e9) << name;
    if (p.paper_parameters >= 7e9) {
      EXPECT_LT(std::abs(error), 0.01) << name;
    }
  }
  EXPECT_DOUBLE_EQ(parameter_count(preset("megatron-1.7b")), 1652226048.0);
  EXPECT_DOUBLE_EQ(parameter_count(preset("megatron-3.6b")), 3562162176.0);
  // 12h² + 13h per layer.
  EXPECT_DOUBLE_EQ(layer_parameter_count(preset("megatron-1t")), 12.0 * 25600 * 25600 + 13.0 * 25600);
}

TEST(ModelPresets, ChimeraModels) {
  const TransformerConfig& gpt2 = preset("chimera-gpt2-1.3b");
  EXPECT_EQ(gpt2.layers, 64);
  EXPECT_EQ(gpt2.hidden, 1280);
  EXPECT_EQ(gpt2.heads, 20);
  EXPECT_EQ(gpt2.sequence, 632);
  EXPECT_EQ(gpt2.vocabulary, 50257);
  // 64·(12·1280² + 13·1280) + (50257 + 632)·1280 = 1 259 356 160 + 65 137 920 = 1 324 494 080 ("1.3 B").
  EXPECT_DOUBLE_EQ(parameter_count(gpt2), 1324494080.0);
  EXPECT_LE(std::abs(parameter_count(gpt2) - model_preset("chimera-gpt2-1.3b").paper_parameters), 0.05e9);
  const TransformerConfig& bert = preset("chimera-bert-48");
  EXPECT_EQ(bert.layers, 48);
  EXPECT_EQ(bert.hidden, 1024);
  EXPECT_EQ(bert.heads, 16);
  EXPECT_EQ(bert.sequence, 128);
  EXPECT_EQ(bert.vocabulary, 30522);
  // 48·(12·1024² + 13·1024) + (30522 + 128)·1024 = 604 618 752 + 31 385 600 = 636 004 352.
  EXPECT_DOUBLE_EQ(parameter_count(bert), 636004352.0);
  // The paper's layouts are data: Chimera 4 x 8 b16 for Bert-48, 16 x 32 b1 and 64 x 32 for GPT-2.
  const PaperLayout& b = model_preset("chimera-bert-48").layouts.at(0);
  EXPECT_EQ(b.scheme, "chimera");
  EXPECT_EQ(b.data(), 4);
  EXPECT_EQ(b.pipeline, 8);
  EXPECT_EQ(b.micro_batch, 16);
  const auto& g = model_preset("chimera-gpt2-1.3b").layouts;
  EXPECT_EQ(g.at(0).data(), 16);
  EXPECT_EQ(g.at(0).pipeline, 32);
  EXPECT_EQ(g.at(4).gpus, 2048);
  EXPECT_EQ(g.at(4).data(), 64);
  EXPECT_EQ(g.at(1).recompute, Recompute::full);  // PipeDream-2BW 32 x 16 with recomputation
  EXPECT_EQ(g.at(3).micro_batch_max, 4);          // GEMS b = 1-4
}

TEST(ModelPresets, PaperLayoutsAreConsistent) {
  const int expected_v[] = {1, 1, 1, 1, 1, 3, 2, 2, 3, 1};
  int row = 0;
  for (const char* name : kTableOne) {
    const ModelPreset& p = model_preset(name);
    ASSERT_EQ(p.layouts.size(), 1u) << name;
    const PaperLayout& l = p.layouts[0];
    EXPECT_EQ(l.gpus % (l.tensor * l.pipeline), 0) << name;
    const int d = l.data(), v = l.virtual_stages(p.model.layers);
    EXPECT_EQ(v, expected_v[row++]) << name;
    EXPECT_EQ(l.global_batch % (l.micro_batch * d), 0) << name;
    EXPECT_EQ(p.model.layers % (l.pipeline * v), 0) << name;
    if (v > 1) {
      EXPECT_EQ(l.scheme, "interleaved-1f1b") << name;
      EXPECT_EQ((l.global_batch / (l.micro_batch * d)) % l.pipeline, 0) << name;  // m multiple of p
    }
    EXPECT_EQ(l.recompute, Recompute::full) << name;
    EXPECT_NO_THROW(validate(p.model)) << name;
  }
  // 1T: 3072 GPUs, t = 8, p = 64 -> d = 6, m = 3072 / (1 x 6) = 512 micro-batches per pipeline.
  const PaperLayout& t = model_preset("megatron-1t").layouts[0];
  EXPECT_EQ(t.data(), 6);
  EXPECT_EQ(t.global_batch / (t.micro_batch * t.data()), 512);
  for (const auto& name : {"chimera-gpt2-1.3b", "chimera-bert-48"})
    for (const auto& l : model_preset(name).layouts) {
      EXPECT_EQ(l.data() * l.pipeline, l.gpus) << name;
      if (l.scheme == "chimera") {
        EXPECT_EQ(l.pipeline % 2, 0) << name;
      }
    }
}

TEST(ModelPresets, NamesAndDidYouMean) {
  const auto names = preset_names();
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(names.front(), "megatron-1.7b");
  for (const auto& n : names)
    EXPECT_EQ(preset(n).name, n);
  EXPECT_EQ(error_of([] { preset("megatron-1.8b"); }),
            "error: unknown model preset 'megatron-1.8b', did you mean 'megatron-1.7b'?");
  EXPECT_EQ(error_of([] { preset("chimera-bert48"); }),
            "error: unknown model preset 'chimera-bert48', did you mean 'chimera-bert-48'?");
  const std::string far = error_of([] { preset("llama"); });
  EXPECT_TRUE(contains(far, "unknown model preset 'llama' (known: megatron-1.7b, ")) << far;
  EXPECT_TRUE(contains(far, "chimera-bert-48)")) << far;
}

// ---------------------------------------------------------------------------------------------------------
// FLOPs

TEST(TransformerFlops, MegatronFunctionIsThePaperFormula) {
  for (const char* name : kTableOne) {
    const TransformerConfig& c = preset(name);
    const double B = model_preset(name).layouts[0].global_batch;
    EXPECT_NEAR(megatron_flops(c, B, Recompute::full) / megatron_full_formula(c, B), 1.0, 1e-12) << name;
    EXPECT_NEAR(megatron_flops(c, B, Recompute::none) / megatron_none_formula(c, B), 1.0, 1e-12) << name;
    // Selective: the attention core's forward (4·B·s²·h·l) once more.
    const double s = c.sequence, l = c.layers, h = c.hidden, V = c.vocabulary;
    const double selective = 72 * B * s * l * h * h * (1 + 2 * s / (9 * h) + V / (12 * l * h));
    EXPECT_NEAR(megatron_flops(c, B, Recompute::selective) / selective, 1.0, 1e-12) << name;
  }
}

TEST(TransformerFlops, DecompositionEqualsMegatronExactly) {
  // Each Table 1 model in its paper layout (t, b, B): the op GEMM FLOPs summed over layers, micro-batches
  // and tensor ranks, plus the logits, equal the formula to 1e-9 for every recompute mode.
  for (const char* name : kTableOne) {
    const TransformerConfig& c = preset(name);
    const PaperLayout& l = model_preset(name).layouts[0];
    const double B = l.global_batch;
    EXPECT_NEAR(decomposed_flops(c, l.global_batch, l.micro_batch, l.tensor, Recompute::full) /
                    megatron_full_formula(c, B),
                1.0, 1e-9)
        << name;
    EXPECT_NEAR(decomposed_flops(c, l.global_batch, l.micro_batch, l.tensor, Recompute::none) /
                    megatron_none_formula(c, B),
                1.0, 1e-9)
        << name;
    EXPECT_NEAR(decomposed_flops(c, l.global_batch, l.micro_batch, l.tensor, Recompute::selective) /
                    megatron_flops(c, B, Recompute::selective),
                1.0, 1e-9)
        << name;
  }
  // Sharding conserves work: the same model split over 1, 2 or 8 tensor ranks.
  const TransformerConfig& c = preset("megatron-18.4b");
  for (int t : {1, 2, 8})
    EXPECT_NEAR(decomposed_flops(c, 1024, 8, t, Recompute::full) / megatron_full_formula(c, 1024), 1.0, 1e-9);
  // A non-default ffn and the Chimera models (odd vocabulary, t = 1) too.
  TransformerConfig wide = tiny();
  wide.ffn = 3 * wide.hidden;
  EXPECT_NEAR(decomposed_flops(wide, 8, 2, 2, Recompute::none) / megatron_flops(wide, 8, Recompute::none),
              1.0, 1e-9);
  const TransformerConfig& gpt2 = preset("chimera-gpt2-1.3b");
  EXPECT_NEAR(decomposed_flops(gpt2, 64, 1, 1, Recompute::full) / megatron_full_formula(gpt2, 64), 1.0, 1e-9);
}

TEST(TransformerFlops, EndToEndTrainingTimeEstimates) {
  // Megatron-LM SC21 section 5.1 estimates end-to-end training as about 8·T·P/(n·X): GPT-3 175B (l = 96,
  // h = 12288, s = 2048, V = 51200) on T = 300 B tokens with n = 1024 GPUs at X = 140 TFLOP/s takes
  // "34 days"; the 1T model on 450 B tokens, 3072 GPUs at 163 TFLOP/s takes "84 days". From the exact F:
  // time = F(B) · T/(B·s) / (n·X) -> 34.7 and 85.0 days.
  TransformerConfig gpt3{"gpt3-175b", 96, 12288, 96, 2048, 51200, 0, Precision::fp16};
  EXPECT_NEAR(parameter_count(gpt3) / 1e9, 174.6, 0.05);
  auto days = [](const TransformerConfig& c, double B, double tokens, double gpus, double rate) {
    return megatron_flops(c, B, Recompute::full) * (tokens / (B * c.sequence)) / (gpus * rate) / 86400;
  };
  EXPECT_NEAR(days(gpt3, 1536, 300e9, 1024, 140e12) / 34, 1.0, 0.03);
  EXPECT_NEAR(days(preset("megatron-1t"), 3072, 450e9, 3072, 163e12) / 84, 1.0, 0.03);
  // The 8·T·P shorthand itself: F per token ≈ 8·P with recomputation, ≈ 6·P without.
  const double tokens = 1536.0 * 2048;
  EXPECT_NEAR(megatron_flops(gpt3, 1536, Recompute::full) / tokens / (8 * parameter_count(gpt3)), 1.0, 0.03);
  EXPECT_NEAR(megatron_flops(gpt3, 1536, Recompute::none) / tokens / (6 * parameter_count(gpt3)), 1.0, 0.03);
}

// ---------------------------------------------------------------------------------------------------------
// Ops

TEST(TransformerOps, GemmShapesAfterTensorSharding) {
  // 145.6B (h = 12288, a = 96, s = 2048, V = 51200) with t = 8, b = 2: T = b·s = 4096 tokens,
  // h/t = 1536, 4h/t = 6144, a/t = 12 heads of 128, V/t = 6400.
  const TransformerConfig& c = preset("megatron-145.6b");
  const BlockOps ops = layer_ops(c, 2, 8, Recompute::none);
  auto shape = [](const Op& op) {
    return std::vector<std::int64_t>{op.shape.m, op.shape.n, op.shape.k, op.shape.batch};
  };
  using S = std::vector<std::int64_t>;
  EXPECT_EQ(shape(find_op(ops.forward, "qkv")), (S{4096, 4608, 12288, 1}));
  EXPECT_EQ(shape(find_op(ops.forward, "attention-scores")), (S{2048, 2048, 128, 24}));
  EXPECT_EQ(shape(find_op(ops.forward, "attention-values")), (S{2048, 128, 2048, 24}));
  EXPECT_EQ(shape(find_op(ops.forward, "projection")), (S{4096, 12288, 1536, 1}));
  EXPECT_EQ(shape(find_op(ops.forward, "mlp-1")), (S{4096, 6144, 12288, 1}));
  EXPECT_EQ(shape(find_op(ops.forward, "mlp-2")), (S{4096, 12288, 6144, 1}));
  EXPECT_EQ(shape(find_op(ops.backward, "mlp-1.dgrad")), (S{4096, 12288, 6144, 1}));
  EXPECT_EQ(shape(find_op(ops.backward, "mlp-1.wgrad")), (S{12288, 6144, 4096, 1}));
  EXPECT_EQ(shape(find_op(ops.backward, "attention-scores.dq")), (S{2048, 128, 2048, 24}));
  EXPECT_EQ(shape(find_op(ops.backward, "attention-values.dprobs")), (S{2048, 2048, 128, 24}));
  EXPECT_EQ(shape(find_op(ops.backward, "softmax.bwd")), (S{0, 0, 0, 0}));
  const BlockOps out = output_ops(c, 2, 8);
  EXPECT_EQ(shape(find_op(out.forward, "logits")), (S{4096, 6400, 12288, 1}));
  EXPECT_EQ(shape(find_op(out.backward, "logits.wgrad")), (S{12288, 6400, 4096, 1}));
  // Forward GEMMs per rank: (24·b·s·h² + 4·b·s²·h)/t; the backward's are twice that.
  const double b = 2, s = 2048, h = 12288;
  const double forward = (24 * b * s * h * h + 4 * b * s * s * h) / 8;
  EXPECT_NEAR(totals(ops.forward).gemm_flops / forward, 1.0, 1e-12);
  EXPECT_NEAR(totals(ops.backward).gemm_flops / (2 * forward), 1.0, 1e-12);
  EXPECT_EQ(find_op(ops.forward, "qkv").op_class, OpClass::gemm);
  EXPECT_EQ(find_op(ops.forward, "attention-scores").op_class, OpClass::attention_gemm);
  EXPECT_EQ(to_string(OpClass::attention_gemm), "attention-gemm");
}

TEST(TransformerOps, EveryOpOfTheLayerIsThere) {
  const BlockOps ops = layer_ops(tiny(), 2, 2, Recompute::none);
  std::vector<std::string> names;
  for (const auto& op : ops.forward)
    names.push_back(op.name);
  EXPECT_EQ(names, (std::vector<std::string>{"layernorm-1", "qkv", "attention-scores", "softmax",
                                             "attention-dropout", "attention-values", "projection",
                                             "projection-dropout", "residual-add-1", "layernorm-2", "mlp-1",
                                             "gelu", "mlp-2", "mlp-dropout", "residual-add-2"}));
  EXPECT_EQ(ops.backward.size(), 21u);  // 4 weight GEMMs x 2, 4 attention GEMMs, 9 others
  for (const auto& op : ops.backward) {
    EXPECT_FALSE(op.recompute) << op.name;
    EXPECT_GT(op.bytes, 0) << op.name;
  }
  EXPECT_EQ(ops.forward_allreduce_bytes.size(), 2u);
  EXPECT_EQ(ops.backward_allreduce_bytes.size(), 2u);
  EXPECT_TRUE(layer_ops(tiny(), 2, 1, Recompute::none).forward_allreduce_bytes.empty());
  const BlockOps emb = embedding_ops(tiny(), 2, 2);
  EXPECT_EQ(emb.forward.front().op_class, OpClass::embedding);
  EXPECT_EQ(totals(emb.forward).gemm_flops + totals(emb.backward).gemm_flops, 0.0);
  const BlockOps out = output_ops(tiny(), 2, 2);
  EXPECT_EQ(find_op(out.forward, "cross-entropy").op_class, OpClass::cross_entropy);
  EXPECT_EQ(out.forward_allreduce_bytes.size(), 3u);
}

TEST(TransformerOps, RecomputationAddsItsForwardToTheBackward) {
  const TransformerConfig c = tiny();
  const BlockOps none = layer_ops(c, 2, 2, Recompute::none);
  const BlockOps full = layer_ops(c, 2, 2, Recompute::full);
  const BlockOps selective = layer_ops(c, 2, 2, Recompute::selective);
  // Full: the whole forward, flagged, before the gradient ops (and its two allreduces again).
  ASSERT_EQ(full.backward.size(), none.backward.size() + none.forward.size());
  for (size_t i = 0; i < none.forward.size(); ++i) {
    EXPECT_EQ(full.backward[i].name, none.forward[i].name);
    EXPECT_TRUE(full.backward[i].recompute);
  }
  EXPECT_EQ(full.backward_allreduce_bytes.size(), 4u);
  const OpTotals f = totals(none.forward), bn = totals(none.backward), bf = totals(full.backward);
  EXPECT_DOUBLE_EQ(bf.gemm_flops, bn.gemm_flops + f.gemm_flops);
  EXPECT_DOUBLE_EQ(bf.other_flops, bn.other_flops + f.other_flops);
  EXPECT_DOUBLE_EQ(bf.bytes, bn.bytes + f.bytes);
  // Selective: QK^T, softmax, attention dropout, attention over V (Korthikanti et al. 2022), no allreduce.
  std::vector<std::string> recomputed;
  for (const auto& op : selective.backward)
    if (op.recompute) recomputed.push_back(op.name);
  EXPECT_EQ(recomputed, (std::vector<std::string>{"attention-scores", "softmax", "attention-dropout",
                                                  "attention-values"}));
  EXPECT_EQ(selective.backward_allreduce_bytes.size(), 2u);
  // 4·b·s²·h/t = 4·2·32²·64/2 extra GEMM FLOPs.
  EXPECT_DOUBLE_EQ(totals(selective.backward).gemm_flops - bn.gemm_flops, 4.0 * 2 * 32 * 32 * 64 / 2);
}

TEST(TransformerOps, BytesAndNonGemmFlopsByHand) {
  // tiny (h = 64, a = 4, s = 32, fp16) with b = 2, t = 2: T = 64 tokens, h/t = 32, 2 heads of 16 per rank.
  const BlockOps ops = layer_ops(tiny(), 2, 2, Recompute::none);
  // qkv reads X (64·64) and W (64·96) and the bias (96), writes 64·96: 2·(4096 + 6144 + 96 + 6144) = 32960 B.
  EXPECT_DOUBLE_EQ(find_op(ops.forward, "qkv").bytes, 32960);
  EXPECT_DOUBLE_EQ(find_op(ops.forward, "qkv").flops, 2.0 * 64 * 96 * 64);
  // softmax over b·(a/t)·s² = 2·2·32² = 4096 scores: reads and writes them, 2·2·4096 = 16384 B, 7 flop each.
  EXPECT_DOUBLE_EQ(find_op(ops.forward, "softmax").bytes, 16384);
  EXPECT_DOUBLE_EQ(find_op(ops.forward, "softmax").flops, 7 * 4096);
  // The dropout also writes its 1-byte mask: 16384 + 4096.
  EXPECT_DOUBLE_EQ(find_op(ops.forward, "attention-dropout").bytes, 20480);
  // mlp-1.wgrad: dW[64×128] = X^T·dY reads X (64·64) and dY (64·128), read-modify-writes dW: 2·(4096 + 8192
  // + 2·8192) = 57344 B.
  EXPECT_DOUBLE_EQ(find_op(ops.backward, "mlp-1.wgrad").bytes, 57344);
  // Non-GEMM FLOPs stay out of the GEMM counter.
  const OpTotals t = totals(ops.forward);
  double gemm = 0, other = 0;
  for (const auto& op : ops.forward)
    (op.is_gemm() ? gemm : other) += op.flops;
  EXPECT_DOUBLE_EQ(t.gemm_flops, gemm);
  EXPECT_DOUBLE_EQ(t.other_flops, other);
  EXPECT_GT(t.other_flops, 0);
  EXPECT_DOUBLE_EQ(t.flops(), gemm + other);
}

// ---------------------------------------------------------------------------------------------------------
// Memory

TEST(ModelMemory, ActivationsFollowKorthikantiTableTwo) {
  // sbh·(10 + 24/t + 5as/(ht)), sbh·(10 + 24/t), 2sbh for 16-bit activations, ffn = 4h.
  for (const char* name : {"megatron-1.7b", "megatron-145.6b", "megatron-1t"})
    for (int t : {1, 2, 8})
      for (int b : {1, 4}) {
        const TransformerConfig& c = preset(name);
        const double s = c.sequence, h = c.hidden, a = c.heads, sbh = s * b * h;
        EXPECT_NEAR(activation_bytes_per_layer(c, b, t, Recompute::none) /
                        (sbh * (10 + 24.0 / t + 5 * a * s / (h * t))),
                    1.0, 1e-12);
        EXPECT_NEAR(activation_bytes_per_layer(c, b, t, Recompute::selective) / (sbh * (10 + 24.0 / t)), 1.0,
                    1e-12);
        EXPECT_DOUBLE_EQ(activation_bytes_per_layer(c, b, t, Recompute::full), 2 * sbh);
      }
  // fp32 doubles the element bytes but not the 1-byte masks: sbh·(4·4 + 2) + sbh·(4·4 + 2·4·4)/t + 9as²b/t.
  TransformerConfig c = tiny();
  c.precision = Precision::fp32;
  const double sbh = 32 * 2 * 64;
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(c, 2, 2, Recompute::none),
                   18 * sbh + 48 * sbh / 2 + 9.0 * 4 * 32 * 32 * 2 / 2);
}

TEST(ModelMemory, FirstStageByHand) {
  // tiny (l = 4, h = 64, a = 4, s = 32, V = 1000, fp16); this GPU: 2 layers, t = 2, d = 4, ZeRO-1, b = 2,
  // no recomputation, 3 micro-batches in flight, first stage.
  // Parameters: per layer, sharded 4h² + 2h·4h + 3h + 4h = 16384 + 32768 + 192 + 256 = 49600 -> /2 = 24800,
  //   replicated 6h = 384 -> 25184; two layers 50368; word embedding shard V·h/t = 32000, positions
  //   s·h = 2048 -> 84416 parameters.
  // Weights 2 B x 84416 = 168832; gradients 168832; optimizer 12 B x 84416 / 4 = 253248.
  // Activations per layer and micro-batch: sbh = 32·2·64 = 4096; sbh·(10 + 24/2) = 90112;
  //   5·a·s²·b/t = 5·4·1024·2/2 = 20480 -> 110592; two layers 221184, plus the embedding dropout mask
  //   sbh = 4096 -> 225280 per micro-batch; x 3 in flight = 675840.
  // Total 168832 + 168832 + 253248 + 675840 = 1266752 bytes.
  StageMemoryInput in;
  in.layers = 2, in.tensor = 2, in.data = 4, in.micro_batch = 2, in.micro_batches_in_flight = 3;
  in.recompute = Recompute::none, in.zero_stage = 1, in.first_stage = true;
  const MemoryBreakdown m = stage_memory(tiny(), in);
  EXPECT_DOUBLE_EQ(m.parameters, 84416);
  EXPECT_DOUBLE_EQ(m.weights, 168832);
  EXPECT_DOUBLE_EQ(m.gradients, 168832);
  EXPECT_DOUBLE_EQ(m.optimizer_states, 253248);
  EXPECT_DOUBLE_EQ(m.activations_per_micro_batch, 225280);
  EXPECT_DOUBLE_EQ(m.activations, 675840);
  EXPECT_DOUBLE_EQ(m.recompute_workspace, 0);
  EXPECT_DOUBLE_EQ(m.total(), 1266752);
}

TEST(ModelMemory, LastStageWithFullRecomputeByHand) {
  // Same model and GPU shape, last stage (not first), full recomputation, no ZeRO, 1 micro-batch in flight.
  // Parameters: 50368 (layers) + final layer norm 2h = 128 + tied word embedding shard 32000 = 82496.
  // Weights 164992; gradients 164992; optimizer 12 x 82496 = 989952.
  // Activations: layers 2 x 2sbh = 2 x 8192 = 16384; final layer norm and logits inputs 2 x 2·sbh = 16384;
  //   fp32 exp-logits 4·s·b·V/t = 4·32·2·500 = 128000 -> 160768.
  // Recompute workspace: one layer without recomputation for one micro-batch, 110592.
  // Total 164992 + 164992 + 989952 + 160768 + 110592 = 1591296 bytes.
  StageMemoryInput in;
  in.layers = 2, in.tensor = 2, in.data = 4, in.micro_batch = 2, in.micro_batches_in_flight = 1;
  in.recompute = Recompute::full, in.zero_stage = 0, in.last_stage = true;
  const MemoryBreakdown m = stage_memory(tiny(), in);
  EXPECT_DOUBLE_EQ(m.parameters, 82496);
  EXPECT_DOUBLE_EQ(m.optimizer_states, 989952);
  EXPECT_DOUBLE_EQ(m.activations, 160768);
  EXPECT_DOUBLE_EQ(m.recompute_workspace, 110592);
  EXPECT_DOUBLE_EQ(m.total(), 1591296);
  // fp32 training: 4 + 4 + 8 bytes per parameter, still 16.
  TransformerConfig c = tiny();
  c.precision = Precision::fp32;
  const MemoryBreakdown f = stage_memory(c, in);
  EXPECT_DOUBLE_EQ(f.weights + f.gradients + f.optimizer_states, 16.0 * 82496);
  EXPECT_DOUBLE_EQ(f.optimizer_states, 8.0 * 82496);
}

TEST(ModelMemory, WholeModelOnOneGpuHoldsEveryParameter) {
  // p = 1, t = 1: the stage is first and last and holds P plus the final layer norm (2h), 16 B each.
  const TransformerConfig& c = preset("megatron-1.7b");
  StageMemoryInput in;
  in.layers = c.layers, in.first_stage = true, in.last_stage = true, in.recompute = Recompute::full;
  const MemoryBreakdown m = stage_memory(c, in);
  EXPECT_DOUBLE_EQ(m.parameters, parameter_count(c) + 2.0 * c.hidden);
  EXPECT_DOUBLE_EQ(m.weights + m.gradients + m.optimizer_states, 16 * m.parameters);
}

// ---------------------------------------------------------------------------------------------------------
// Invalid input

TEST(TransformerValidation, FfnDefaultsToFourHidden) {
  TransformerConfig c = tiny();
  EXPECT_EQ(c.ffn_size(), 256);
  const double implicit = parameter_count(c);
  c.ffn = 256;
  EXPECT_DOUBLE_EQ(parameter_count(c), implicit);
  EXPECT_EQ(bytes_per_element(Precision::bf16), 2);
  EXPECT_EQ(bytes_per_element(Precision::fp32), 4);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_EQ(to_string(Precision::fp32), "fp32");
}

TEST(TransformerValidation, InvalidConfigsThrowWithTheirMessage) {
  TransformerConfig c = tiny();
  c.hidden = 100, c.heads = 16;
  EXPECT_EQ(error_of([&] { validate(c); }),
            "error: model 'tiny': 'heads': hidden size (100) must be divisible by attention heads (16)");
  c = tiny();
  c.layers = 0, c.vocabulary = -5;
  // Every problem at once.
  EXPECT_EQ(error_of([&] { validate(c); }),
            "error: model 'tiny': 'layers': must be a positive integer, got 0\n"
            "error: model 'tiny': 'vocabulary': must be a positive integer, got -5");
  c = tiny();
  c.ffn = -1;
  EXPECT_EQ(error_of([&] { validate(c); }),
            "error: model 'tiny': 'ffn': must be positive (or 0 for 4 x hidden), got -1");
  EXPECT_EQ(error_of([] { layer_ops(tiny(), 1, 3, Recompute::none); }),
            "error: model 'tiny': 'heads': attention heads (4) must be divisible by tensor (3)\n"
            "error: model 'tiny': 'ffn': ffn size (256) must be divisible by tensor (3)");
  EXPECT_EQ(error_of([] { layer_ops(tiny(), 0, 1, Recompute::none); }),
            "error: model 'tiny': 'micro_batch': must be a positive integer, got 0");
  EXPECT_EQ(
      error_of([] { output_ops(preset("chimera-gpt2-1.3b"), 1, 2); }),
      "error: model 'chimera-gpt2-1.3b': 'vocabulary': vocabulary (50257) must be divisible by tensor (2); "
      "pad it as Megatron does (to a multiple of 128 x tensor)");
  // The layers alone do not need the vocabulary to split.
  EXPECT_NO_THROW(layer_ops(preset("chimera-gpt2-1.3b"), 1, 2, Recompute::none));
  EXPECT_EQ(error_of([] { parse_precision("fp61"); }),
            "error: unknown precision 'fp61' (expected fp16, bf16 or fp32), did you mean 'fp16'?");
  EXPECT_EQ(error_of([] { megatron_flops(tiny(), 0, Recompute::full); }),
            "error: global batch must be positive, got 0");
  StageMemoryInput in;
  in.layers = 2, in.zero_stage = 2, in.data = 0;
  EXPECT_EQ(error_of([&] { stage_memory(tiny(), in); }),
            "error: stage: 'data': must be a positive integer, got 0\n"
            "error: stage: 'zero_stage': zero stage 2 is not modelled (0 or 1)");
}
