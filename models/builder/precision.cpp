// Precision names, the per-tensor type rule and llama.cpp's file-type numbers.
#include "models/builder/precision.h"

namespace phirun::builder {

std::optional<Precision> parse_precision(std::string_view name) {
  if (name == "fp32") return Precision::FP32;
  if (name == "fp16") return Precision::FP16;
  if (name == "bf16") return Precision::BF16;
  if (name == "int8") return Precision::INT8;
  if (name == "int4") return Precision::INT4;
  return std::nullopt;
}

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::FP32:
      return "fp32";
    case Precision::FP16:
      return "fp16";
    case Precision::BF16:
      return "bf16";
    case Precision::INT8:
      return "int8";
    case Precision::INT4:
      return "int4";
  }
  return "?";
}

TensorType PrecisionPolicy::type_of(Precision p) const {
  switch (p) {
    case Precision::FP32:
      return TensorType::F32;
    case Precision::FP16:
      return TensorType::F16;
    case Precision::BF16:
      return TensorType::BF16;
    case Precision::INT8:
      return TensorType::Q8_0;
    case Precision::INT4:
      return int4_type;
  }
  return TensorType::F32;
}

TensorType PrecisionPolicy::type_for(const TensorPlan& plan, bool tied) const {
  if (!plan.is_matrix()) return TensorType::F32;
  // At INT4 the embedding and the head (one tensor when tied) default to Q8_0: they hold a fifth
  // of a small model's weights and most of its sensitivity to rounding.
  const Precision edge_default = precision == Precision::INT4 ? Precision::INT8 : precision;
  Precision chosen = precision;
  if (plan.role == TensorRole::TokenEmbedding) {
    chosen = tied ? lm_head.value_or(embed.value_or(edge_default)) : embed.value_or(edge_default);
  } else if (plan.role == TensorRole::OutputHead) {
    chosen = lm_head.value_or(edge_default);
  }
  const TensorType type = type_of(chosen);
  if (type_traits(type).block_elements > 1 && plan.row_length() % type_traits(type).block_elements != 0)
    return TensorType::F16;
  return type;
}

uint32_t PrecisionPolicy::file_type() const {
  switch (precision) {
    case Precision::FP32:
      return 0;  // LLAMA_FTYPE_ALL_F32
    case Precision::FP16:
      return 1;  // LLAMA_FTYPE_MOSTLY_F16
    case Precision::BF16:
      return 32;  // LLAMA_FTYPE_MOSTLY_BF16
    case Precision::INT8:
      return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case Precision::INT4:
      return int4_type == TensorType::Q4_1 ? 3 : 2;  // MOSTLY_Q4_1 : MOSTLY_Q4_0
  }
  return 0;
}

}  // namespace phirun::builder
