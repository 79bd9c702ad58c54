// Q4_1 in the packed panel layout (gemm/packed_layout.h): nibbles 0..15 standing for
// code · d + m, with 16 scales then 16 minimums before the codes of each block.
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm/nibble_codes.h"
#include "kernels/quant/tensor_type.h"

namespace phirun {
namespace {

struct Q4_1Format : NibbleCodes {
  static constexpr TensorType kType = TensorType::Q4_1;
  static constexpr bool kHasMin = true;
  static constexpr int kCodesOffset = 64;  // after 16 f16 scales and 16 f16 minimums
  static constexpr int32_t kFloatBias = 0;
  template <class V>
  static constexpr int32_t int8_bias() {
    return 0;
  }
};

}  // namespace
}  // namespace phirun
