// Names and sizes of precisions and op classes.
#include "cost/op.hpp"

#include <fmt/format.h>

#include "core/diagnostics.hpp"

namespace whatif::cost {

double bytes_per_element(Precision p) {
  return p == Precision::fp32 ? 4.0 : 2.0;
}

std::string to_string(Precision p) {
  switch (p) {
    case Precision::fp16:
      return "fp16";
    case Precision::bf16:
      return "bf16";
    case Precision::fp32:
      return "fp32";
  }
  return "?";
}

Precision parse_precision(std::string_view name) {
  if (name == "fp16") return Precision::fp16;
  if (name == "bf16") return Precision::bf16;
  if (name == "fp32") return Precision::fp32;
  throw core::InputError(fmt::format("unknown precision '{}' (expected fp16, bf16 or fp32){}", name,
                                     core::did_you_mean(name, {"fp16", "bf16", "fp32"})));
}

std::string to_string(OpClass c) {
  switch (c) {
    case OpClass::gemm:
      return "gemm";
    case OpClass::attention_gemm:
      return "attention-gemm";
    case OpClass::elementwise:
      return "elementwise";
    case OpClass::softmax:
      return "softmax";
    case OpClass::layernorm:
      return "layernorm";
    case OpClass::embedding:
      return "embedding";
    case OpClass::cross_entropy:
      return "cross-entropy";
  }
  return "?";
}

}  // namespace whatif::cost
