// The precision policy: which tensor type each tensor of the model is written in. `-p` sets the
// large matrices; norms and other vectors stay F32; the token embedding and the output head have
// their own defaults (INT4 keeps them at Q8_0, as llama.cpp's Q4_0 files do for a tied head) and
// flags; a matrix whose rows are not whole 32-blocks falls back to F16.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernels/quant/tensor_type.h"
#include "models/builder/tensor_plan.h"

namespace phirun::builder {

enum class Precision { FP32, FP16, BF16, INT8, INT4 };

std::optional<Precision> parse_precision(std::string_view name);  // "fp32", "fp16", "bf16", "int8", "int4"
std::string_view precision_name(Precision precision);

struct PrecisionPolicy {
  Precision precision = Precision::INT4;
  TensorType int4_type = TensorType::Q4_0;  // Q4_0 or Q4_1
  std::optional<Precision> embed;           // --embed-precision
  std::optional<Precision> lm_head;         // --lm-head-precision

  TensorType type_of(Precision p) const;
  // The type `plan` is written in; `tied` says the embedding is also the output head.
  TensorType type_for(const TensorPlan& plan, bool tied) const;
  // llama.cpp's general.file_type for the file's main precision (LLAMA_FTYPE_*).
  uint32_t file_type() const;
};

}  // namespace phirun::builder
