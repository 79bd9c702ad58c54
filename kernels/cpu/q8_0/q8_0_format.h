// Q8_0 in the packed panel layout (gemm/packed_layout.h): codes stored as q + 128 (unsigned), in
// 8 groups of 4 elements per row. Each SIMD variant says how it multiplies them (V::q8_weights,
// V::dot4_q8) and what bias remains to correct (V::kQ8Bias).
#pragma once

#include <cstdint>

#include "kernels/quant/tensor_type.h"

namespace phirun {
namespace {

struct Q8_0Format {
  static constexpr TensorType kType = TensorType::Q8_0;
  static constexpr bool kHasMin = false;
  static constexpr int kCodesOffset = 32;
  static constexpr int32_t kFloatBias = 128;  // stored code = q + 128
  template <class V>
  static constexpr int32_t int8_bias() {
    return V::kQ8Bias;
  }
  template <class V>
  static typename V::I dot4(typename V::I acc, typename V::I w, const int8_t* x) {
    return V::dot4_q8(acc, w, x);
  }
  template <class V, class Fn>
  static void for_each_int8(const uint8_t* codes, Fn&& fn) {
    for (int g = 0; g < 8; ++g) fn(V::q8_weights(V::load(codes + 64 * g)), 4 * g);
  }
  template <class V, class Fn>
  static void for_each_int8_pair(const uint8_t* codes0, const uint8_t* codes1, Fn&& fn) {
    for (int g = 0; g < 8; ++g)
      fn(V::q8_weights(V::load(codes0 + 64 * g)), V::q8_weights(V::load(codes1 + 64 * g)), 4 * g);
  }
  template <class V, class Fn>
  static void for_each_code(const uint8_t* codes, Fn&& fn) {
    for (int g = 0; g < 8; ++g) fn(V::load(codes + 64 * g), 4 * g);
  }
};

}  // namespace
}  // namespace phirun
