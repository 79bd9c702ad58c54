// The matmul kernels of the block types (Q4_0, Q4_1, Q8_0) over 16-row panels, written once
// against a SIMD primitive set V (simd/*.h) and a block format Fmt (q4_0/, q4_1/, q8_0/).
// Int8 activations: per block, integer dot products of the codes with the quantized
// activations, one integer lane per weight row, then scaled by d_w · d_x into float sums
// (split int8 activations: two such dots per block, see gemm/activations.h).
// Float activations: the codes converted to float and multiplied in float; the weights' offset
// (Q4_0's 8, Q8_0's stored 128) and Q4_1's minimum are applied once per block through the
// activation block sums. Internal linkage: see simd/avx512.h.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/gemm/activations.h"
#include "kernels/cpu/gemm/gemm_kernels.h"
#include "kernels/cpu/gemm/packed_layout.h"
#include "kernels/cpu/gemm/prefetch.h"

namespace phirun {
namespace {

// Prefill: activation rows are taken 64 at a time (their int8 codes stay in L2) against every
// panel of the thread's range; decode (one row) is the same loop with one tile.
constexpr int64_t kRowBlock = 64;

template <class V>
void store_rows(float* y, const typename V::F& v, int64_t valid) {
  if (valid == kPanelRows) {
    V::store(y, v);
  } else {
    alignas(64) float lanes[kPanelRows];
    V::store(lanes, v);
    std::copy_n(lanes, valid, y);
  }
}

// kSplit: split rows (gemm/activations.h): each weight register feeds two dots, one with the
// high plane and one with the low, joined in int32 as 256 · hi + lo before the float step.
template <class V, class Fmt, int T, bool kSplit>
void block_int8_tile(const uint8_t* panel, int64_t blocks, const Int8Rows& x, int64_t t0, float* y, int64_t y_stride,
                     int64_t valid) {
  using I = typename V::I;
  using F = typename V::F;
  F acc[T];
  for (int t = 0; t < T; ++t) acc[t] = V::zero();
  const int64_t step = panel_step_bytes(Fmt::kType);
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* block = panel + b * step;
    if constexpr (T == 1) prefetch_ahead(block, step);  // decode: see kPrefetchBytes
    I dot[T];
    [[maybe_unused]] I dot_lo[T];
    const int8_t* xq[T];
    [[maybe_unused]] const int8_t* xl[T];
    for (int t = 0; t < T; ++t) {
      const int64_t index = (t0 + t) * (x.k / 32) + b;
      xq[t] = x.q + (t0 + t) * x.k + 32 * b;
      if constexpr (kSplit) {
        dot[t] = V::splat(0);
        dot_lo[t] = V::splat(x.offset[index]);
        xl[t] = x.lo + (t0 + t) * x.k + 32 * b;
      } else {
        dot[t] = V::splat(x.offset[index]);
      }
    }
    Fmt::template for_each_int8<V>(block + Fmt::kCodesOffset, [&](I w, int x_offset) {
      for (int t = 0; t < T; ++t) {
        dot[t] = Fmt::template dot4<V>(dot[t], w, xq[t] + x_offset);
        if constexpr (kSplit) dot_lo[t] = Fmt::template dot4<V>(dot_lo[t], w, xl[t] + x_offset);
      }
    });
    if constexpr (kSplit)
      for (int t = 0; t < T; ++t) dot[t] = V::add(V::shift_left8(dot[t]), dot_lo[t]);
    const F d = V::load_f16(block);
    for (int t = 0; t < T; ++t) {
      const int64_t index = (t0 + t) * (x.k / 32) + b;
      acc[t] = V::fma(V::to_float(dot[t]), V::mul(d, V::splatf(x.scale[index])), acc[t]);
      if constexpr (Fmt::kHasMin) acc[t] = V::fma(V::load_f16(block + 32), V::splatf(x.scaled_sum[index]), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) store_rows<V>(y + (t0 + t) * y_stride, acc[t], valid);
}

// The same over two adjacent panels (32 weight rows): each activation broadcast feeds both
// panels' dots. Every output is computed exactly as by block_int8_tile.
template <class V, class Fmt, int T, bool kSplit>
void block_int8_pair_tile(const uint8_t* panel, int64_t panel_stride, int64_t blocks, const Int8Rows& x, int64_t t0,
                          float* y, int64_t y_stride, int64_t valid_last) {
  using I = typename V::I;
  using F = typename V::F;
  F acc[T][2];
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = V::zero();
  const int64_t step = panel_step_bytes(Fmt::kType);
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* block0 = panel + b * step;
    const uint8_t* block1 = block0 + panel_stride;
    I dot[T][2];
    [[maybe_unused]] I dot_lo[T][2];
    const int8_t* xq[T];
    [[maybe_unused]] const int8_t* xl[T];
    for (int t = 0; t < T; ++t) {
      const int64_t index = (t0 + t) * (x.k / 32) + b;
      xq[t] = x.q + (t0 + t) * x.k + 32 * b;
      if constexpr (kSplit) {
        dot[t][0] = dot[t][1] = V::splat(0);
        dot_lo[t][0] = dot_lo[t][1] = V::splat(x.offset[index]);
        xl[t] = x.lo + (t0 + t) * x.k + 32 * b;
      } else {
        dot[t][0] = dot[t][1] = V::splat(x.offset[index]);
      }
    }
    Fmt::template for_each_int8_pair<V>(block0 + Fmt::kCodesOffset, block1 + Fmt::kCodesOffset,
                                        [&](I w0, I w1, int x_offset) {
                                          for (int t = 0; t < T; ++t) {
                                            dot[t][0] = Fmt::template dot4<V>(dot[t][0], w0, xq[t] + x_offset);
                                            dot[t][1] = Fmt::template dot4<V>(dot[t][1], w1, xq[t] + x_offset);
                                            if constexpr (kSplit) {
                                              dot_lo[t][0] = Fmt::template dot4<V>(dot_lo[t][0], w0, xl[t] + x_offset);
                                              dot_lo[t][1] = Fmt::template dot4<V>(dot_lo[t][1], w1, xl[t] + x_offset);
                                            }
                                          }
                                        });
    for (int q = 0; q < 2; ++q) {
      const uint8_t* block = q == 0 ? block0 : block1;
      const F d = V::load_f16(block);
      for (int t = 0; t < T; ++t) {
        if constexpr (kSplit) dot[t][q] = V::add(V::shift_left8(dot[t][q]), dot_lo[t][q]);
        const int64_t index = (t0 + t) * (x.k / 32) + b;
        acc[t][q] = V::fma(V::to_float(dot[t][q]), V::mul(d, V::splatf(x.scale[index])), acc[t][q]);
        if constexpr (Fmt::kHasMin)
          acc[t][q] = V::fma(V::load_f16(block + 32), V::splatf(x.scaled_sum[index]), acc[t][q]);
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    store_rows<V>(y + (t0 + t) * y_stride, acc[t][0], kPanelRows);
    store_rows<V>(y + (t0 + t) * y_stride + kPanelRows, acc[t][1], valid_last);
  }
}

template <class V, class Fmt, int T>
void block_float_tile(const uint8_t* panel, int64_t blocks, const FloatRows& x, int64_t t0, float* y, int64_t y_stride,
                      int64_t valid) {
  using I = typename V::I;
  using F = typename V::F;
  F acc[T];
  for (int t = 0; t < T; ++t) acc[t] = V::zero();
  const int64_t step = panel_step_bytes(Fmt::kType);
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* block = panel + b * step;
    if constexpr (T == 1) prefetch_ahead(block, step);  // decode: see kPrefetchBytes
    F sum[2][T];  // two chains: low and high halves of the block
    const float* xb[T];
    for (int t = 0; t < T; ++t) {
      sum[0][t] = sum[1][t] = V::zero();
      xb[t] = x.x + (t0 + t) * x.k + 32 * b;
    }
    Fmt::template for_each_code<V>(block + Fmt::kCodesOffset, [&](I codes, int x_offset) {
      const int chain = x_offset >= 16 ? 1 : 0;
      auto one_byte = [&](F w, int j) {
        for (int t = 0; t < T; ++t) sum[chain][t] = V::fma(w, V::splatf(xb[t][x_offset + j]), sum[chain][t]);
      };
      one_byte(V::to_float(V::template byte<0>(codes)), 0);
      one_byte(V::to_float(V::template byte<1>(codes)), 1);
      one_byte(V::to_float(V::template byte<2>(codes)), 2);
      one_byte(V::to_float(V::template byte<3>(codes)), 3);
    });
    const F d = V::load_f16(block);
    for (int t = 0; t < T; ++t) {
      const float block_sum = x.block_sums[(t0 + t) * (x.k / 32) + b];
      const F s = V::add(sum[0][t], sum[1][t]);
      if constexpr (Fmt::kHasMin) {
        acc[t] = V::fma(d, s, V::fma(V::load_f16(block + 32), V::splatf(block_sum), acc[t]));
      } else {
        acc[t] = V::fma(d, V::add(s, V::splatf(-float(Fmt::kFloatBias) * block_sum)), acc[t]);
      }
    }
  }
  for (int t = 0; t < T; ++t) store_rows<V>(y + (t0 + t) * y_stride, acc[t], valid);
}

// Runs the one tile of the `left` (< kSize + 1) remaining rows, sized at compile time.
template <int kSize, class Tile>
void remainder_tile(int64_t left, int64_t t, Tile& tile) {
  if constexpr (kSize >= 1) {
    if (left == kSize)
      tile(std::integral_constant<int, kSize>{}, t);
    else
      remainder_tile<kSize - 1>(left, t, tile);
  }
}

// Runs tiles of kTile rows over [t_begin, t_end), then one tile of the remainder.
template <int kTile, class Tile>
void for_tiles(int64_t t_begin, int64_t t_end, Tile&& tile) {
  int64_t t = t_begin;
  for (; t + kTile <= t_end; t += kTile) tile(std::integral_constant<int, kTile>{}, t);
  remainder_tile<kTile - 1>(t_end - t, t, tile);
}

template <class V, class Fmt, bool kSplit>
void block_int8_gemm_rows(const MatrixView& w, const Int8Rows& x, int64_t n_rows, float* y, int64_t y_stride,
                          int64_t panel_begin, int64_t panel_end) {
  const int64_t blocks = w.cols / 32;
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t r0 = 0; r0 < n_rows; r0 += kRowBlock) {
    const int64_t r1 = std::min(n_rows, r0 + kRowBlock);
    int64_t p = panel_begin;
    // Prefill: pairs of panels (only the second can be the short last one), then one alone.
    if constexpr (V::kInt8PairTile > 0) {
      if (r1 - r0 >= V::kInt8PairTile) {
        const int64_t stride = blocks * panel_step_bytes(Fmt::kType);
        for (; p + 2 <= panel_end; p += 2) {
          const int64_t valid_last = std::min<int64_t>(kPanelRows, w.rows - (p + 1) * kPanelRows);
          for_tiles<V::kInt8PairTile>(r0, r1, [&](auto tile, int64_t t0) {
            block_int8_pair_tile<V, Fmt, decltype(tile)::value, kSplit>(base + p * stride, stride, blocks, x, t0,
                                                                        y + p * kPanelRows, y_stride, valid_last);
          });
        }
      }
    }
    for (; p < panel_end; ++p) {
      const uint8_t* panel = base + p * blocks * panel_step_bytes(Fmt::kType);
      const int64_t valid = std::min<int64_t>(kPanelRows, w.rows - p * kPanelRows);
      for_tiles<V::kInt8Tile>(r0, r1, [&](auto tile, int64_t t0) {
        block_int8_tile<V, Fmt, decltype(tile)::value, kSplit>(panel, blocks, x, t0, y + p * kPanelRows, y_stride,
                                                               valid);
      });
    }
  }
}

// Int8 rows, or split rows when x.lo is set.
template <class V, class Fmt>
void block_int8_gemm(const MatrixView& w, const Int8Rows& x, int64_t n_rows, float* y, int64_t y_stride,
                     int64_t panel_begin, int64_t panel_end) {
  if (x.lo)
    block_int8_gemm_rows<V, Fmt, true>(w, x, n_rows, y, y_stride, panel_begin, panel_end);
  else
    block_int8_gemm_rows<V, Fmt, false>(w, x, n_rows, y, y_stride, panel_begin, panel_end);
}

template <class V, class Fmt>
void block_float_gemm(const MatrixView& w, const FloatRows& x, int64_t n_rows, float* y, int64_t y_stride,
                      int64_t panel_begin, int64_t panel_end) {
  const int64_t blocks = w.cols / 32;
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t r0 = 0; r0 < n_rows; r0 += kRowBlock) {
    const int64_t r1 = std::min(n_rows, r0 + kRowBlock);
    for (int64_t p = panel_begin; p < panel_end; ++p) {
      const uint8_t* panel = base + p * blocks * panel_step_bytes(Fmt::kType);
      const int64_t valid = std::min<int64_t>(kPanelRows, w.rows - p * kPanelRows);
      for_tiles<V::kBlockFloatTile>(r0, r1, [&](auto tile, int64_t t0) {
        block_float_tile<V, Fmt, decltype(tile)::value>(panel, blocks, x, t0, y + p * kPanelRows, y_stride, valid);
      });
    }
  }
}

template <class V, class Fmt>
FamilyKernels block_family_kernels() {
  return {block_float_gemm<V, Fmt>, block_int8_gemm<V, Fmt>, Fmt::template int8_bias<V>()};
}

}  // namespace
}  // namespace phirun
