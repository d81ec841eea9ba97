// Transformer workload model: configurations, paper presets, Megatron's counts, per-layer ops and memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cost/op.hpp"
#include "training/layout.hpp"

namespace whatif::training {

// ---------------------------------------------------------------------------------------------------------
// Configuration

using cost::bytes_per_element;
using cost::parse_precision;
using cost::Precision;
using cost::to_string;

// A GPT-style decoder (or BERT-style encoder: the cost is the same) of identical layers.
struct TransformerConfig {
  std::string name;
  int layers = 0;      // l
  int hidden = 0;      // h
  int heads = 0;       // a
  int sequence = 0;    // s
  int vocabulary = 0;  // V, taken as given (pad it here if the implementation pads it)
  int ffn = 0;         // MLP inner size; 0 means the usual 4·hidden (use ffn_size())
  Precision precision = Precision::fp16;

  int ffn_size() const { return ffn > 0 ? ffn : 4 * hidden; }
};

// Throws core::InputError listing every problem (non-positive sizes, hidden not divisible by heads, ...).
void validate(const TransformerConfig& cfg);

// ---------------------------------------------------------------------------------------------------------
// Presets: the papers' models with the layouts the papers ran them in

// One configuration a paper reports for a model. Zero means "the paper does not say".
struct PaperLayout {
  std::string scheme;  // 1f1b | interleaved-1f1b | chimera | gems | pipedream | pipedream-2bw
  int gpus = 0;
  int tensor = 1;
  int pipeline = 1;                  // D in the Chimera paper
  int global_batch = 0;              // B, sequences per iteration
  int micro_batch = 0;               // b
  int micro_batch_max = 0;           // upper end when the paper gives a range (GEMS "b1-4"), else 0
  int layers_per_virtual_stage = 0;  // Megatron's interleaving column; 0: not interleaved
  Recompute recompute = Recompute::none;
  std::string note;  // where it comes from in the paper

  int data() const { return tensor * pipeline > 0 ? gpus / (tensor * pipeline) : 0; }  // d (W in Chimera)
  // v = l / (p · layers per virtual stage); 1 when not interleaved.
  int virtual_stages(int layers) const;
};

struct ModelPreset {
  TransformerConfig model;
  double paper_parameters = 0;  // the paper's own parameter count; 0 when it gives none
  std::string source;
  std::vector<PaperLayout> layouts;
};

// Names: megatron-1.7b ... megatron-529.6b, megatron-1t, chimera-gpt2-1.3b, chimera-bert-48.
// Unknown names throw core::InputError with a did-you-mean.
const ModelPreset& model_preset(std::string_view name);
const TransformerConfig& preset(std::string_view name);
std::vector<std::string> preset_names();

// ---------------------------------------------------------------------------------------------------------
// Megatron-LM's counts (Narayanan et al., SC21, appendix) for the whole model

// P = 12·l·h²·(1 + 13/(12h) + (V+s)/(12·l·h)) when ffn = 4h; in general
// l·(4h² + 2hf + f + 9h) + (V + s)·h (the final layer norm is left out, as in the paper).
double parameter_count(const TransformerConfig& cfg);
// One transformer layer: 12h² + 13h when ffn = 4h.
double layer_parameter_count(const TransformerConfig& cfg);

// Training FLOPs of one iteration over `global_batch` sequences (GEMMs only, as Megatron counts):
//   full:      96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h))   (SC21)
//   none:      72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h))   (the logits term stays 6·B·s·h·V: the output
//                                                       layer is never recomputed, so "72 instead of
//                                                       96" applies to the layer terms only)
//   selective: none + 4·B·s²·h·l = 72·B·s·l·h²·(1 + 2s/(9h) + V/(12·l·h))  (re-running QK^T and
//              attention over V; see model.cpp on how this relates to Korthikanti et al.'s figure)
// For ffn ≠ 4h the 24h² of a layer's forward becomes 8h² + 4hf.
double megatron_flops(const TransformerConfig& cfg, double global_batch, Recompute recompute);

// ---------------------------------------------------------------------------------------------------------
// Op decomposition: what one GPU executes for one micro-batch

using cost::GemmShape;
using cost::OpClass;

struct Op {
  std::string name;  // "qkv", "qkv.dgrad", "attention-scores.dq", "layernorm-1.bwd", ...
  OpClass op_class = OpClass::elementwise;
  double flops = 0;        // arithmetic on this GPU
  double bytes = 0;        // device-memory traffic: operands read + results written
  GemmShape shape;         // after tensor-parallel sharding; all zero for non-GEMM ops
  bool recompute = false;  // a forward op re-run at the start of the backward pass
  bool is_gemm() const { return op_class == OpClass::gemm || op_class == OpClass::attention_gemm; }
};

// Megatron's formulas count GEMM FLOPs only, so GEMM and other FLOPs are kept apart: gemm_flops summed
// over an iteration equals megatron_flops() exactly; other_flops is the (small) extra a roofline needs.
struct OpTotals {
  double gemm_flops = 0;
  double other_flops = 0;
  double bytes = 0;
  double flops() const { return gemm_flops + other_flops; }
};
OpTotals totals(const std::vector<Op>& ops);

// The ops of one block for one micro-batch on one tensor-parallel rank, and the tensor-parallel
// allreduces that separate them (bytes of each rank's buffer; empty when tensor = 1).
struct BlockOps {
  std::vector<Op> forward;
  std::vector<Op> backward;  // recomputed forward ops first (recompute = true), then gradient ops
  std::vector<double> forward_allreduce_bytes;
  std::vector<double> backward_allreduce_bytes;  // includes the recomputed forward's under full recompute
};

// One transformer layer (Megatron's tensor-parallel split: QKV and MLP-1 by columns, projection and
// MLP-2 by rows). Throws core::InputError when micro_batch or tensor do not fit the model.
BlockOps layer_ops(const TransformerConfig& cfg, int micro_batch, int tensor, Recompute recompute);
// First stage: word embedding (vocabulary-parallel), position embedding, embedding dropout.
BlockOps embedding_ops(const TransformerConfig& cfg, int micro_batch, int tensor);
// Last stage: final layer norm, logits GEMM (h × V, vocabulary-parallel) and cross-entropy loss.
BlockOps output_ops(const TransformerConfig& cfg, int micro_batch, int tensor);

// ---------------------------------------------------------------------------------------------------------
// Memory per GPU

// Activation bytes one layer keeps per micro-batch between its forward and its backward
// (Korthikanti et al. 2022, table 2, sequence parallelism off):
//   none:      s·b·h·(10 + 24/t + 5·a·s/(h·t))
//   selective: s·b·h·(10 + 24/t)
//   full:      2·s·b·h (the layer's input only)
// for 16-bit activations and ffn = 4h; model.cpp gives the general form.
double activation_bytes_per_layer(const TransformerConfig& cfg, int micro_batch, int tensor,
                                  Recompute recompute);

struct StageMemoryInput {
  int layers = 0;  // transformer layers this GPU holds (all its chunks / Chimera's two stages together)
  int tensor = 1;
  int data = 1;  // data-parallel ranks sharing the optimizer states under ZeRO-1
  int micro_batch = 1;
  // Micro-batches whose activations every layer of the stage holds at the peak (the schedule says:
  // N for GPipe, up to p for 1F1B on the first stage, ...); may be fractional as an average over chunks.
  double micro_batches_in_flight = 1;
  Recompute recompute = Recompute::none;
  int zero_stage = 0;        // 0, or 1 (optimizer states sharded over `data`)
  bool first_stage = false;  // holds the embeddings
  bool last_stage = false;   // holds the final layer norm, the output (tied) word embedding and the loss
};

struct MemoryBreakdown {
  double parameters = 0;                   // count held by this GPU
  double weights = 0;                      // bytes
  double gradients = 0;                    // bytes
  double optimizer_states = 0;             // bytes
  double activations_per_micro_batch = 0;  // bytes, all the stage's layers (and embedding/output) for one
  double activations = 0;                  // bytes, × micro-batches in flight
  double recompute_workspace = 0;          // bytes re-materialised for one layer during its backward
  double total() const { return weights + gradients + optimizer_states + activations + recompute_workspace; }
};

// Mixed-precision Adam: 2 + 2 + 12 bytes per parameter (16-bit weights and gradients; fp32 master weights,
// momentum and variance), optimizer states divided by `data` under ZeRO-1; fp32 training: 4 + 4 + 8.
MemoryBreakdown stage_memory(const TransformerConfig& cfg, const StageMemoryInput& in);

}  // namespace whatif::training
