// Q4_0 in the packed panel layout (gemm/packed_layout.h): how the generic block kernels walk a
// block's codes. Codes are nibbles 0..15 standing for (code - 8) · d.
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm/nibble_codes.h"
#include "kernels/quant/tensor_type.h"

namespace phirun {
namespace {

struct Q4_0Format : NibbleCodes {
  static constexpr TensorType kType = TensorType::Q4_0;
  static constexpr bool kHasMin = false;
  static constexpr int kCodesOffset = 32;   // after 16 f16 scales
  static constexpr int32_t kFloatBias = 8;  // value = (code - 8) * d
  template <class V>
  static constexpr int32_t int8_bias() {
    return 8;
  }
};

}  // namespace
}  // namespace phirun
