// Q4_1 in the packed panel layout (gemm/packed_layout.h): nibbles 0..15 standing for
// code · d + m, with 16 scales then 16 minimums before the codes of each block.
#pragma once

#include <cstdint>

#include "kernels/quant/tensor_type.h"

namespace phirun {
namespace {

struct Q4_1Format {
  static constexpr TensorType kType = TensorType::Q4_1;
  static constexpr bool kHasMin = true;
  static constexpr int kCodesOffset = 64;  // after 16 f16 scales and 16 f16 minimums
  static constexpr int32_t kFloatBias = 0;
  template <class V>
  static constexpr int32_t int8_bias() {
    return 0;
  }
  template <class V>
  static typename V::I dot4(typename V::I acc, typename V::I w, const int8_t* x) {
    return V::dot4(acc, w, x);
  }
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
