// What a cost model needs to know about one GPU operation: its class, precision, work and shape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace whatif::cost {

enum class Precision { fp16, bf16, fp32 };

// Bytes of one activation or weight element: 2 for fp16/bf16, 4 for fp32.
double bytes_per_element(Precision p);
std::string to_string(Precision p);
Precision parse_precision(std::string_view name);  // throws core::InputError

enum class OpClass {
  gemm,            // weight GEMM (dense layer)
  attention_gemm,  // batched activation x activation GEMM (QK^T, attention over V and their gradients)
  elementwise,     // GeLU, dropout, residual add, bias
  softmax,
  layernorm,
  embedding,      // row gather / scatter-add of the embedding table
  cross_entropy,  // vocabulary-parallel softmax cross-entropy
};
std::string to_string(OpClass c);  // "gemm", "attention-gemm", ...

// C[m x n] = A[m x k] B[k x n], `batch` independent products (the heads of a micro-batch).
struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0, batch = 0;
};

}  // namespace whatif::cost
