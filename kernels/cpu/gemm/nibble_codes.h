// How the block kernels walk the codes of a 4-bit panel block (Q4_0 and Q4_1 share the layout:
// 16 rows x 32 nibbles, low nibbles first): the integer dot and the per-group code order.
#pragma once

#include <cstdint>

namespace phirun {
namespace {

struct NibbleCodes {
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
  // The same walk over two panels' blocks at once: fn(codes of panel 0, of panel 1, offset).
  template <class V, class Fn>
  static void for_each_int8_pair(const uint8_t* codes0, const uint8_t* codes1, Fn&& fn) {
    for (int g = 0; g < 4; ++g) {
      const typename V::I raw0 = V::load(codes0 + 64 * g), raw1 = V::load(codes1 + 64 * g);
      fn(V::low_nibbles(raw0), V::low_nibbles(raw1), 4 * g);
      fn(V::high_nibbles(raw0), V::high_nibbles(raw1), 16 + 4 * g);
    }
  }
  template <class V, class Fn>
  static void for_each_code(const uint8_t* codes, Fn&& fn) {
    for_each_int8<V>(codes, fn);
  }
};

}  // namespace
}  // namespace phirun
