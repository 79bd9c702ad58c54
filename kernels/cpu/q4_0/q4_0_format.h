// Q4_0 in the packed panel layout (gemm/packed_layout.h): how the generic block kernels walk a
// block's codes. Codes are nibbles 0..15 standing for (code - 8) · d.
#pragma once

#include <cstdint>

#include "kernels/quant/tensor_type.h"

namespace phirun {
namespace {

struct Q4_0Format {
  static constexpr TensorType kType = TensorType::Q4_0;
  static constexpr bool kHasMin = false;
  static constexpr int kCodesOffset = 32;   // after 16 f16 scales
  static constexpr int32_t kFloatBias = 8;  // value = (code - 8) * d
  template <class V>
  static constexpr int32_t int8_bias() {
    return 8;
  }
  template <class V>
  static typename V::I dot4(typename V::I acc, typename V::I w, const int8_t* x) {
    return V::dot4(acc, w, x);
  }
  // fn(codes of 4 consecutive elements per row, offset of the first in the block)
  template <class V, class Fn>
  static void for_each_int8(const uint8_t* codes, Fn&& fn) {
    for (int g = 0; g < 4; ++g) {
      const typename V::I raw = V::load(codes + 64 * g);
      fn(V::low_nibbles(raw), 4 * g);
      fn(V::high_nibbles(raw), 16 + 4 * g);
    }
  }
  template <class V, class Fn>
  static void for_each_code(const uint8_t* codes, Fn&& fn) {
    for_each_int8<V>(codes, fn);
  }
};

}  // namespace
}  // namespace phirun
