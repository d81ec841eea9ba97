// Transformer workload model: presets, Megatron's parameter/FLOP counts, per-layer ops, memory per GPU.
#include "training/model.hpp"

#include <fmt/format.h>

#include "core/diagnostics.hpp"

namespace whatif::training {

// ---------------------------------------------------------------------------------------------------------
// Configuration

void validate(const TransformerConfig& cfg) {
  core::Diagnostics diags;
  auto error = [&](const char* field, std::string message) {
    diags.error({}, "model", cfg.name, field, std::move(message));
  };
  auto positive = [&](const char* field, int value) {
    if (value < 1) error(field, fmt::format("must be a positive integer, got {}", value));
  };
  positive("layers", cfg.layers);
  positive("hidden", cfg.hidden);
  positive("heads", cfg.heads);
  positive("sequence", cfg.sequence);
  positive("vocabulary", cfg.vocabulary);
  if (cfg.ffn < 0) error("ffn", fmt::format("must be positive (or 0 for 4 x hidden), got {}", cfg.ffn));
  if (cfg.hidden > 0 && cfg.heads > 0 && cfg.hidden % cfg.heads != 0)
    error("heads",
          fmt::format("hidden size ({}) must be divisible by attention heads ({})", cfg.hidden, cfg.heads));
  diags.throw_if_errors();
}

namespace {

// The model's sizes must also split over the tensor-parallel ranks the way Megatron splits them.
void validate_block(const TransformerConfig& cfg, int micro_batch, int tensor, bool needs_vocabulary) {
  validate(cfg);
  core::Diagnostics diags;
  auto error = [&](const char* field, std::string message) {
    diags.error({}, "model", cfg.name, field, std::move(message));
  };
  if (micro_batch < 1) error("micro_batch", fmt::format("must be a positive integer, got {}", micro_batch));
  if (tensor < 1) {
    error("tensor", fmt::format("must be a positive integer, got {}", tensor));
  } else {
    // hidden % tensor follows from these two and hidden % heads.
    if (cfg.heads % tensor != 0)
      error("heads", fmt::format("attention heads ({}) must be divisible by tensor ({})", cfg.heads, tensor));
    if (cfg.ffn_size() % tensor != 0)
      error("ffn", fmt::format("ffn size ({}) must be divisible by tensor ({})", cfg.ffn_size(), tensor));
    if (needs_vocabulary && cfg.vocabulary % tensor != 0)
      error("vocabulary",
            fmt::format("vocabulary ({}) must be divisible by tensor ({}); pad it as Megatron does (to a "
                        "multiple of 128 x tensor)",
                        cfg.vocabulary, tensor));
  }
  diags.throw_if_errors();
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Presets

int PaperLayout::virtual_stages(int layers) const {
  if (layers_per_virtual_stage <= 0 || pipeline <= 0) return 1;
  return layers / (pipeline * layers_per_virtual_stage);
}

namespace {

std::vector<ModelPreset> make_presets() {
  std::vector<ModelPreset> out;
  // Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM",
  // SC21, Table 1: s = 2048, V = 51 200, mixed precision, full activation recomputation, A100-80GB.
  const char* megatron = "Megatron-LM (Narayanan et al., SC21), Table 1";
  struct Row {
    const char* name;
    double params_b;
    int heads, hidden, layers, t, p, gpus, batch, micro, per_virtual_stage;
  };
  const Row rows[] = {
      {"megatron-1.7b", 1.7, 24, 2304, 24, 1, 1, 32, 512, 16, 0},
      {"megatron-3.6b", 3.6, 32, 3072, 30, 2, 1, 64, 512, 16, 0},
      {"megatron-7.5b", 7.5, 32, 4096, 36, 4, 1, 128, 512, 16, 0},
      {"megatron-18.4b", 18.4, 48, 6144, 40, 8, 1, 256, 1024, 8, 0},
      {"megatron-39.1b", 39.1, 64, 8192, 48, 8, 2, 512, 1536, 4, 0},
      {"megatron-76.1b", 76.1, 80, 10240, 60, 8, 4, 1024, 1792, 2, 5},
      {"megatron-145.6b", 145.6, 96, 12288, 80, 8, 8, 1536, 2304, 2, 5},
      {"megatron-310.1b", 310.1, 128, 16384, 96, 8, 16, 1920, 2160, 1, 3},
      {"megatron-529.6b", 529.6, 128, 20480, 105, 8, 35, 2520, 2520, 1, 1},
      {"megatron-1t", 1008.0, 160, 25600, 128, 8, 64, 3072, 3072, 1, 0},
  };
  for (const Row& r : rows) {
    ModelPreset p;
    p.model = {r.name, r.layers, r.hidden, r.heads, 2048, 51200, 0, Precision::fp16};
    p.paper_parameters = r.params_b * 1e9;
    p.source = megatron;
    PaperLayout l;
    l.scheme = r.per_virtual_stage > 0 ? "interleaved-1f1b" : "1f1b";
    l.gpus = r.gpus;
    l.tensor = r.t;
    l.pipeline = r.p;
    l.global_batch = r.batch;
    l.micro_batch = r.micro;
    l.layers_per_virtual_stage = r.per_virtual_stage;
    l.recompute = Recompute::full;
    l.note = fmt::format("Table 1, {} B parameters", r.params_b);
    p.layouts.push_back(l);
    out.push_back(std::move(p));
  }

  // Li & Hoefler, "Chimera: Efficiently Training Large-Scale Neural Networks with Bidirectional Pipelines",
  // SC21 (Piz Daint, one P100 per node). The paper's layouts are W (data) x D (stages); global batches are
  // not part of the reference data, so they stay 0. Precision is not in the reference either: fp32 is an
  // assumption (P100 has no tensor cores), overridable in a workload.
  const char* chimera = "Chimera (Li & Hoefler, SC21), evaluation section";
  auto layout = [](const char* scheme, int width, int depth, int micro, int micro_max, Recompute rc,
                   const char* note) {
    PaperLayout l;
    l.scheme = scheme;
    l.gpus = width * depth;
    l.pipeline = depth;
    l.micro_batch = micro;
    l.micro_batch_max = micro_max;
    l.recompute = rc;
    l.note = note;
    return l;
  };
  {
    ModelPreset p;
    p.model = {"chimera-gpt2-1.3b", 64, 1280, 20, 632, 50257, 0, Precision::fp32};
    p.paper_parameters = 1.3e9;
    p.source = chimera;
    p.layouts = {
        layout("chimera", 16, 32, 1, 0, Recompute::none, "512 nodes: Chimera 16 x 32, b = 1"),
        layout("pipedream-2bw", 32, 16, 1, 0, Recompute::full,
               "512 nodes: PipeDream-2BW 32 x 16, b = 1, with recomputation"),
        layout("pipedream", 64, 8, 0, 0, Recompute::none, "512 nodes: PipeDream 64 x 8"),
        layout("gems", 64, 8, 1, 4, Recompute::none, "512 nodes: GEMS 64 x 8, b = 1-4"),
        layout("chimera", 64, 32, 0, 0, Recompute::none, "2048 nodes: Chimera 64 x 32"),
    };
    out.push_back(std::move(p));
  }
  {
    ModelPreset p;
    // BERT-large layers (hidden 1024, 16 heads) stacked 48 deep, BERT's WordPiece vocabulary.
    p.model = {"chimera-bert-48", 48, 1024, 16, 128, 30522, 0, Precision::fp32};
    p.source = chimera;
    p.layouts = {
        layout("chimera", 4, 8, 16, 0, Recompute::none, "32 nodes: Chimera 4 x 8, b = 16"),
        layout("gems", 8, 4, 32, 0, Recompute::none, "32 nodes: GEMS 8 x 4, b = 32"),
        layout("pipedream", 4, 8, 8, 0, Recompute::none, "32 nodes: PipeDream 4 x 8, b = 8"),
        layout("pipedream-2bw", 4, 8, 16, 0, Recompute::none, "32 nodes: PipeDream-2BW 4 x 8, b = 16"),
    };
    out.push_back(std::move(p));
  }
  return out;
}

const std::vector<ModelPreset>& presets() {
  static const std::vector<ModelPreset> all = make_presets();
  return all;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& p : presets())
    names.push_back(p.model.name);
  return names;
}

const ModelPreset& model_preset(std::string_view name) {
  for (const auto& p : presets())
    if (p.model.name == name) return p;
  auto names = preset_names();
  std::string hint = core::did_you_mean(name, names);
  if (hint.empty()) {
    hint = " (known:";
    for (size_t i = 0; i < names.size(); ++i)
      hint += (i ? ", " : " ") + names[i];
    hint += ")";
  }
  throw core::InputError(fmt::format("unknown model preset '{}'{}", name, hint));
}

const TransformerConfig& preset(std::string_view name) {
  return model_preset(name).model;
}

// ---------------------------------------------------------------------------------------------------------
// Megatron's counts

double layer_parameter_count(const TransformerConfig& cfg) {
  const double h = cfg.hidden, f = cfg.ffn_size();
  // QKV 3h² + 3h, projection h² + h, MLP 2hf + f + h, two layer norms 4h: 12h² + 13h when f = 4h.
  return 4 * h * h + 2 * h * f + f + 9 * h;
}

double parameter_count(const TransformerConfig& cfg) {
  validate(cfg);
  // Word and position embeddings (V + s)·h; the word embedding is tied to the logits layer.
  return cfg.layers * layer_parameter_count(cfg) + (double(cfg.vocabulary) + cfg.sequence) * cfg.hidden;
}

// Selective recompute: Korthikanti et al. (2022) re-run "QK^T, softmax, softmax dropout and attention
// over V" (Megatron checkpoints its CoreAttention module), i.e. the forward's 4·b·s²·h GEMM FLOPs per layer
// once more: F = 72·B·s·l·h²·(1 + s/(6h) + V/(12lh)) + 4·B·s²·h·l. That is what layer_ops() executes, and
// the tests hold the two equal. The paper states its selective overhead as 2.7 % for GPT-3 and 1.6 % for
// MT-NLG, which is s/(6h) relative (hardware FLOPs 72·B·s·l·h²·(1 + s/(3h) + V/(12lh)) as we recall its
// appendix; the text was not at hand to check): three times the recomputed work counted here, as if the
// attention core's backward were redone too. We count only what is re-executed.
double megatron_flops(const TransformerConfig& cfg, double global_batch, Recompute recompute) {
  validate(cfg);
  if (!(global_batch > 0))
    throw core::InputError(fmt::format("global batch must be positive, got {}", global_batch));
  const double B = global_batch, s = cfg.sequence, l = cfg.layers, h = cfg.hidden, V = cfg.vocabulary,
               f = cfg.ffn_size();
  // One layer's forward for one sequence: QKV 6sh², projection 2sh², MLP 4shf, QK^T and attention over V
  // 4s²h (= 24sh² + 4s²h when f = 4h). Backward is twice the forward (dgrad + wgrad).
  const double dense = s * (8 * h * h + 4 * h * f), attention = 4 * s * s * h;
  const double forward = B * l * (dense + attention);
  double layers = 3 * forward;
  if (recompute == Recompute::full) layers += forward;
  if (recompute == Recompute::selective) layers += B * l * attention;
  // Logits: 2·s·h·V forward, 4·s·h·V backward, never recomputed.
  const double logits = 6 * B * s * h * V;
  return layers + logits;
}

// ---------------------------------------------------------------------------------------------------------
// Op decomposition

OpTotals totals(const std::vector<Op>& ops) {
  OpTotals t;
  for (const auto& op : ops) {
    (op.is_gemm() ? t.gemm_flops : t.other_flops) += op.flops;
    t.bytes += op.bytes;
  }
  return t;
}

namespace {

// Non-GEMM arithmetic per element, from the operation counts of straightforward kernels. These ops are
// memory-bound, so the counts only need to be the right size; Megatron's totals leave them out entirely.
constexpr double kLayerNormForward = 8;    // mean 1, variance 3, normalise 2, scale and shift 2
constexpr double kLayerNormBackward = 11;  // two row reductions and the dx combination 8, dgamma/dbeta 3
constexpr double kSoftmaxForward = 7;   // scale 1, causal mask 1, max 1, subtract 1, exp 1, sum 1, divide 1
constexpr double kSoftmaxBackward = 5;  // dy·y 1, row sum 1, subtract 1, multiply 1, scale 1
constexpr double kDropout = 2;          // draw-and-compare (or read the mask) 1, multiply by 1/(1-p) 1
constexpr double kGeluForward = 8;      // tanh approximation: x³ 2, fused multiply-adds 3, tanh 1, 2
constexpr double kGeluBackward = 12;    // recomputes tanh and differentiates it
constexpr double kCrossEntropyForward = 5;   // max 1, subtract 1, exp 1, sum 1, target pick 1
constexpr double kCrossEntropyBackward = 2;  // divide by the sum 1, subtract the one-hot 1
// Dropout masks are one byte per element (Korthikanti et al. count them so); token ids are int64.
constexpr double kMaskBytes = 1;
constexpr double kTokenIdBytes = 8;
// Megatron's vocabulary-parallel cross-entropy works on the logits converted to fp32.
constexpr double kLossBytes = 4;

using I = std::int64_t;

Op gemm(std::string name, OpClass cls, I m, I n, I k, I batch, double bytes) {
  Op op;
  op.name = std::move(name);
  op.op_class = cls;
  op.shape = {m, n, k, batch};
  op.flops = 2.0 * double(m) * double(n) * double(k) * double(batch);
  op.bytes = bytes;
  return op;
}

Op other(std::string name, OpClass cls, double flops, double bytes) {
  Op op;
  op.name = std::move(name);
  op.op_class = cls;
  op.flops = flops;
  op.bytes = bytes;
  return op;
}

// Sizes of one micro-batch on one tensor-parallel rank.
struct Dims {
  I b, s, h, t;
  I tokens;    // T = b·s
  I hs;        // h/t: attention width of this rank
  I f;         // ffn/t
  I heads;     // a/t
  I head_dim;  // h/a
  I vocab;     // V/t (output and embedding blocks only)
  double e;    // bytes per element
  double T() const { return double(tokens); }
  double H() const { return double(h); }
  double scores() const { return double(b) * double(heads) * double(s) * double(s); }  // b·(a/t)·s²
  double head_values() const { return double(b) * double(heads) * double(s) * double(head_dim); }  // T·h/t
};

Dims dims(const TransformerConfig& cfg, int micro_batch, int tensor) {
  Dims d;
  d.b = micro_batch;
  d.s = cfg.sequence;
  d.h = cfg.hidden;
  d.t = tensor;
  d.tokens = d.b * d.s;
  d.hs = d.h / d.t;
  d.f = cfg.ffn_size() / d.t;
  d.heads = cfg.heads / d.t;
  d.head_dim = d.h / cfg.heads;
  d.vocab = cfg.vocabulary % tensor == 0 ? cfg.vocabulary / tensor : 0;
  d.e = bytes_per_element(cfg.precision);
  return d;
}

Op layernorm_forward(const std::string& name, const Dims& d) {
  // Reads x and (gamma, beta), writes y.
  return other(name, OpClass::layernorm, kLayerNormForward * d.T() * d.H(),
               d.e * (2 * d.T() * d.H() + 2 * d.H()));
}

Op layernorm_backward(const std::string& name, const Dims& d) {
  // Reads x, dy and gamma; writes dx, dgamma and dbeta.
  return other(name + ".bwd", OpClass::layernorm, kLayerNormBackward * d.T() * d.H(),
               d.e * (3 * d.T() * d.H() + 3 * d.H()));
}

// Forward ops of the attention core, which selective recomputation re-runs.
std::vector<Op> attention_core_forward(const Dims& d) {
  const double n = d.scores(), qkv = d.head_values();
  return {
      // Per head: S[s×s] = Q[s×d]·K^T[d×s]; reads Q and K, writes S.
      gemm("attention-scores", OpClass::attention_gemm, d.s, d.s, d.head_dim, d.b * d.heads,
           d.e * (2 * qkv + n)),
      other("softmax", OpClass::softmax, kSoftmaxForward * n, d.e * 2 * n),
      other("attention-dropout", OpClass::elementwise, kDropout * n, d.e * 2 * n + kMaskBytes * n),
      // Per head: O[s×d] = P[s×s]·V[s×d]; reads P and V, writes O.
      gemm("attention-values", OpClass::attention_gemm, d.s, d.head_dim, d.s, d.b * d.heads,
           d.e * (n + 2 * qkv)),
  };
}

std::vector<Op> layer_forward(const Dims& d) {
  const double T = d.T(), H = d.H(), Hs = double(d.hs), F = double(d.f), e = d.e;
  std::vector<Op> ops;
  ops.push_back(layernorm_forward("layernorm-1", d));
  // Column-parallel [T×h]·[h×3h/t], bias inside the GEMM.
  ops.push_back(
      gemm("qkv", OpClass::gemm, d.tokens, 3 * d.hs, d.h, 1, e * (T * H + 3 * Hs * H + 3 * Hs + 3 * T * Hs)));
  for (auto& op : attention_core_forward(d))
    ops.push_back(std::move(op));
  // Row-parallel [T×h/t]·[h/t×h]; its partial sums are allreduced, then the (replicated) bias is added.
  ops.push_back(gemm("projection", OpClass::gemm, d.tokens, d.h, d.hs, 1, e * (T * Hs + Hs * H + T * H)));
  // Bias add and dropout (one pass, as Megatron's bias-dropout fusion): bias 1 + dropout 2 per element.
  ops.push_back(other("projection-dropout", OpClass::elementwise, (1 + kDropout) * T * H,
                      e * (2 * T * H + H) + kMaskBytes * T * H));
  ops.push_back(other("residual-add-1", OpClass::elementwise, T * H, e * 3 * T * H));
  ops.push_back(layernorm_forward("layernorm-2", d));
  ops.push_back(gemm("mlp-1", OpClass::gemm, d.tokens, d.f, d.h, 1, e * (T * H + H * F + T * F)));
  // Bias add fused with GeLU (Megatron's bias-gelu fusion).
  ops.push_back(other("gelu", OpClass::elementwise, (1 + kGeluForward) * T * F, e * (2 * T * F + F)));
  ops.push_back(gemm("mlp-2", OpClass::gemm, d.tokens, d.h, d.f, 1, e * (T * F + F * H + T * H)));
  ops.push_back(other("mlp-dropout", OpClass::elementwise, (1 + kDropout) * T * H,
                      e * (2 * T * H + H) + kMaskBytes * T * H));
  ops.push_back(other("residual-add-2", OpClass::elementwise, T * H, e * 3 * T * H));
  return ops;
}

// For Y[m×n] = X[m×k]·W[k×n]: dX[m×k] = dY·W^T has shape (m, k, n), dW[k×n] = X^T·dY has shape (k, n, m),
// each as many FLOPs as the forward. dW accumulates into the gradient buffer over micro-batches, so it
// is read and written.
void weight_gemm_backward(std::vector<Op>& ops, const std::string& name, I m, I n, I k, double e) {
  const double M = double(m), N = double(n), K = double(k);
  ops.push_back(gemm(name + ".dgrad", OpClass::gemm, m, k, n, 1, e * (M * N + K * N + M * K)));
  ops.push_back(gemm(name + ".wgrad", OpClass::gemm, k, n, m, 1, e * (M * K + M * N + 2 * K * N)));
}

void dropout_backward(std::vector<Op>& ops, const std::string& name, const Dims& d) {
  // Reads dy and the mask, writes dx, and reduces dy over tokens into the bias gradient.
  const double T = d.T(), H = d.H();
  ops.push_back(other(name + ".bwd", OpClass::elementwise, (kDropout + 1) * T * H,
                      d.e * (2 * T * H + H) + kMaskBytes * T * H));
}

std::vector<Op> layer_backward(const Dims& d) {
  const double T = d.T(), H = d.H(), F = double(d.f), e = d.e, n = d.scores(), qkv = d.head_values();
  std::vector<Op> ops;
  dropout_backward(ops, "mlp-dropout", d);
  weight_gemm_backward(ops, "mlp-2", d.tokens, d.h, d.f, e);
  // Reads the stored pre-activation and dy, writes dx; the bias gradient is a reduction over tokens.
  ops.push_back(other("gelu.bwd", OpClass::elementwise, (kGeluBackward + 1) * T * F, e * (3 * T * F + F)));
  weight_gemm_backward(ops, "mlp-1", d.tokens, d.f, d.h, e);
  ops.push_back(layernorm_backward("layernorm-2", d));
  // The MLP branch's gradient joins the skip connection's.
  ops.push_back(other("residual-add-2.bwd", OpClass::elementwise, T * H, e * 3 * T * H));
  dropout_backward(ops, "projection-dropout", d);
  weight_gemm_backward(ops, "projection", d.tokens, d.h, d.hs, e);
  // O = P·V per head: dP = dO·V^T (s, s, d), dV = P^T·dO (s, d, s).
  ops.push_back(gemm("attention-values.dprobs", OpClass::attention_gemm, d.s, d.s, d.head_dim, d.b * d.heads,
                     e * (2 * qkv + n)));
  ops.push_back(gemm("attention-values.dv", OpClass::attention_gemm, d.s, d.head_dim, d.s, d.b * d.heads,
                     e * (n + 2 * qkv)));
  ops.push_back(
      other("attention-dropout.bwd", OpClass::elementwise, kDropout * n, e * 2 * n + kMaskBytes * n));
  // Reads y and dy, writes dx.
  ops.push_back(other("softmax.bwd", OpClass::softmax, kSoftmaxBackward * n, e * 3 * n));
  // S = Q·K^T per head: dQ = dS·K (s, d, s), dK = dS^T·Q (s, d, s).
  ops.push_back(gemm("attention-scores.dq", OpClass::attention_gemm, d.s, d.head_dim, d.s, d.b * d.heads,
                     e * (n + 2 * qkv)));
  ops.push_back(gemm("attention-scores.dk", OpClass::attention_gemm, d.s, d.head_dim, d.s, d.b * d.heads,
                     e * (n + 2 * qkv)));
  weight_gemm_backward(ops, "qkv", d.tokens, 3 * d.hs, d.h, e);
  ops.push_back(layernorm_backward("layernorm-1", d));
  ops.push_back(other("residual-add-1.bwd", OpClass::elementwise, T * H, e * 3 * T * H));
  return ops;
}

void append_recomputed(std::vector<Op>& backward, std::vector<Op> forward) {
  for (auto& op : forward) {
    op.recompute = true;
    backward.push_back(std::move(op));
  }
}

}  // namespace

BlockOps layer_ops(const TransformerConfig& cfg, int micro_batch, int tensor, Recompute recompute) {
  validate_block(cfg, micro_batch, tensor, false);
  const Dims d = dims(cfg, micro_batch, tensor);
  BlockOps out;
  out.forward = layer_forward(d);
  if (recompute == Recompute::full) append_recomputed(out.backward, out.forward);
  if (recompute == Recompute::selective) append_recomputed(out.backward, attention_core_forward(d));
  for (auto& op : layer_backward(d))
    out.backward.push_back(std::move(op));
  if (tensor > 1) {
    // Megatron's g operators: after the projection and after MLP-2 in the forward; f's backward after the
    // QKV and MLP-1 dgrads. The recomputed forward repeats its two (the attention core alone has none).
    const double bytes = d.e * d.T() * d.H();
    out.forward_allreduce_bytes = {bytes, bytes};
    out.backward_allreduce_bytes = {bytes, bytes};
    if (recompute == Recompute::full) out.backward_allreduce_bytes = {bytes, bytes, bytes, bytes};
  }
  return out;
}

BlockOps embedding_ops(const TransformerConfig& cfg, int micro_batch, int tensor) {
  validate_block(cfg, micro_batch, tensor, true);
  const Dims d = dims(cfg, micro_batch, tensor);
  const double T = d.T(), H = d.H(), S = double(d.s), t = double(tensor), e = d.e;
  BlockOps out;
  // Vocabulary-parallel lookup: each rank gathers the rows of its shard (T/t tokens on average) and writes
  // zeros for the others; the allreduce then sums the t partial results.
  out.forward.push_back(
      other("word-embedding", OpClass::embedding, 0, kTokenIdBytes * T + e * T * H / t + e * T * H));
  out.forward.push_back(other("position-embedding", OpClass::elementwise, T * H, e * (2 * T * H + S * H)));
  out.forward.push_back(
      other("embedding-dropout", OpClass::elementwise, kDropout * T * H, e * 2 * T * H + kMaskBytes * T * H));
  out.backward.push_back(other("embedding-dropout.bwd", OpClass::elementwise, kDropout * T * H,
                               e * 2 * T * H + kMaskBytes * T * H));
  // The position gradient sums the micro-batch's b sequences.
  out.backward.push_back(other("position-embedding.bwd", OpClass::elementwise, T * H, e * (T * H + S * H)));
  // Scatter-add into this rank's rows: read-modify-write of the rows its tokens hit.
  out.backward.push_back(other("word-embedding.bwd", OpClass::embedding, T * H / t,
                               kTokenIdBytes * T + e * T * H + 2 * e * T * H / t));
  if (tensor > 1) out.forward_allreduce_bytes = {e * T * H};
  return out;
}

BlockOps output_ops(const TransformerConfig& cfg, int micro_batch, int tensor) {
  validate_block(cfg, micro_batch, tensor, true);
  const Dims d = dims(cfg, micro_batch, tensor);
  const double T = d.T(), H = d.H(), Vt = double(d.vocab), e = d.e;
  BlockOps out;
  out.forward.push_back(layernorm_forward("final-layernorm", d));
  // Logits [T×h]·[h×V/t] against this rank's shard of the (tied) word embedding.
  out.forward.push_back(
      gemm("logits", OpClass::gemm, d.tokens, d.vocab, d.h, 1, e * (T * H + H * Vt + T * Vt)));
  // Reads the logits, keeps exp(logits) in fp32 for the backward.
  out.forward.push_back(other("cross-entropy", OpClass::cross_entropy, kCrossEntropyForward * T * Vt,
                              e * T * Vt + kLossBytes * T * Vt));
  out.backward.push_back(other("cross-entropy.bwd", OpClass::cross_entropy, kCrossEntropyBackward * T * Vt,
                               kLossBytes * T * Vt + e * T * Vt));
  weight_gemm_backward(out.backward, "logits", d.tokens, d.vocab, d.h, e);
  out.backward.push_back(layernorm_backward("final-layernorm", d));
  if (tensor > 1) {
    // Vocabulary-parallel cross-entropy allreduces three fp32 values per token (max logit, target logit,
    // sum of exps); the backward sums the logits dgrad's partial input gradients.
    out.forward_allreduce_bytes = {kLossBytes * T, kLossBytes * T, kLossBytes * T};
    out.backward_allreduce_bytes = {e * T * H};
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Memory

// Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models" (MLSys 2023,
// arXiv:2205.05198), section 4 and table 2, tensor parallelism without sequence parallelism. Per layer
// and micro-batch, with e bytes per element and f the ffn size (masks are 1 byte per element):
//   replicated on every tensor rank: both layer-norm inputs 2e·sbh, QKV input e·sbh, MLP-1 input e·sbh,
//     both dropout masks 2·sbh                                      -> (4e + 2)·sbh        = 10·sbh
//   sharded by t: Q, K 2e·sbh, V e·sbh, projection input e·sbh, GeLU input e·sbf, MLP-2 input e·sbf
//                                                                   -> (4e + 2e·f/h)·sbh/t = 24·sbh/t
//   attention core, sharded by t: softmax output e·as²b, its dropout mask as²b, dropout output e·as²b
//                                                                   -> (2e + 1)·as²b/t     = 5·as²b/t
// (the right-hand sides for e = 2, f = 4h: the paper's sbh·(10 + 24/t + 5as/(ht))).
// Selective recomputation drops the attention-core term (sbh·(10 + 24/t)); full recomputation keeps only
// the layer's input, e·sbh (2sbh).
double activation_bytes_per_layer(const TransformerConfig& cfg, int micro_batch, int tensor,
                                  Recompute recompute) {
  validate_block(cfg, micro_batch, tensor, false);
  const double e = bytes_per_element(cfg.precision), s = cfg.sequence, b = micro_batch, h = cfg.hidden,
               a = cfg.heads, f = cfg.ffn_size(), t = tensor;
  const double sbh = s * b * h;
  if (recompute == Recompute::full) return e * sbh;
  const double kept = (4 * e + 2 * kMaskBytes) * sbh + (4 * e + 2 * e * f / h) * sbh / t;
  if (recompute == Recompute::selective) return kept;
  return kept + (2 * e + kMaskBytes) * a * s * s * b / t;
}

MemoryBreakdown stage_memory(const TransformerConfig& cfg, const StageMemoryInput& in) {
  validate_block(cfg, in.micro_batch, in.tensor, in.first_stage || in.last_stage);
  core::Diagnostics diags;
  auto error = [&](const char* field, std::string message) {
    diags.error({}, "stage", "", field, std::move(message));
  };
  if (in.layers < 0) error("layers", fmt::format("must not be negative, got {}", in.layers));
  if (in.data < 1) error("data", fmt::format("must be a positive integer, got {}", in.data));
  if (!(in.micro_batches_in_flight >= 0))
    error("micro_batches_in_flight", fmt::format("must not be negative, got {}", in.micro_batches_in_flight));
  if (in.zero_stage != 0 && in.zero_stage != 1)
    error("zero_stage", fmt::format("zero stage {} is not modelled (0 or 1)", in.zero_stage));
  diags.throw_if_errors();

  const double h = cfg.hidden, f = cfg.ffn_size(), t = in.tensor, s = cfg.sequence, b = in.micro_batch,
               V = cfg.vocabulary, e = bytes_per_element(cfg.precision);
  MemoryBreakdown m;
  // A layer's GEMM weights and the QKV and MLP-1 biases are split over the tensor ranks; the projection and
  // MLP-2 biases (added after the allreduce) and the layer norms are replicated.
  const double sharded = 4 * h * h + 2 * h * f + 3 * h + f, replicated = 6 * h;
  m.parameters = in.layers * (sharded / t + replicated);
  // The first stage holds its shard of the word embedding and the whole position embedding; the last
  // holds the final layer norm and, unless it is also the first, its own copy of the tied word embedding.
  if (in.first_stage) m.parameters += V * h / t + s * h;
  if (in.last_stage) m.parameters += 2 * h + (in.first_stage ? 0 : V * h / t);

  // Mixed precision (ZeRO paper, Rajbhandari et al. 2020, "16 bytes per parameter"): 16-bit weights and
  // gradients, fp32 master weights, momentum and variance; plain fp32 needs no master copy.
  const bool mixed = cfg.precision != Precision::fp32;
  const double weight_bytes = mixed ? 2 : 4, grad_bytes = mixed ? 2 : 4, optimizer_bytes = mixed ? 12 : 8;
  m.weights = weight_bytes * m.parameters;
  m.gradients = grad_bytes * m.parameters;
  m.optimizer_states = optimizer_bytes * m.parameters / (in.zero_stage == 1 ? in.data : 1);

  double per_micro_batch =
      in.layers * activation_bytes_per_layer(cfg, in.micro_batch, in.tensor, in.recompute);
  // Outside the checkpointed layers (Korthikanti et al. section 4.3): the embedding dropout mask on the
  // first stage; on the last, the final layer norm's input and the logits GEMM's input (e·sbh each) and
  // the fp32 exp-logits the vocabulary-parallel cross-entropy keeps (4·sbV/t).
  if (in.first_stage) per_micro_batch += kMaskBytes * s * b * h;
  if (in.last_stage) per_micro_batch += 2 * e * s * b * h + kLossBytes * s * b * V / t;
  m.activations_per_micro_batch = per_micro_batch;
  m.activations = per_micro_batch * in.micro_batches_in_flight;

  // During a layer's backward its recomputed activations are live again for one micro-batch: the whole
  // layer under full recomputation, the attention core under selective.
  if (in.layers > 0 && in.recompute == Recompute::full)
    m.recompute_workspace = activation_bytes_per_layer(cfg, in.micro_batch, in.tensor, Recompute::none);
  if (in.layers > 0 && in.recompute == Recompute::selective)
    m.recompute_workspace = (2 * e + kMaskBytes) * cfg.heads * s * s * b / t;
  return m;
}

}  // namespace whatif::training
