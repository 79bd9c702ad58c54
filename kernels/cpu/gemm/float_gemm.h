// The matmul kernels of the float weight types (F32, F16, BF16) over 16-row panels: each column
// k of a panel is one vector of 16 weights, multiplied by activation x[t][k] broadcast, into
// several independent accumulator chains. Written once against a SIMD primitive set V.
// Internal linkage: see simd/avx512.h.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/gemm/block_gemm.h"

namespace phirun {
namespace {

template <class V, TensorType kType>
typename V::F load_column(const uint8_t* p) {
  if constexpr (kType == TensorType::F32) return V::load_f32(p);
  if constexpr (kType == TensorType::F16) return V::load_f16(p);
  if constexpr (kType == TensorType::BF16) return V::load_bf16(p);
}

// P adjacent panels (16 P weight rows) by T activation rows: each activation broadcast feeds P
// FMAs and each weight vector T, so loads and F16/BF16 conversions are shared by more FMAs.
template <class V, TensorType kType, int P, int T>
void float_tile(const uint8_t* panel, int64_t panel_stride, int64_t k, const FloatRows& x, int64_t t0, float* y,
                int64_t y_stride, int64_t valid_last) {
  using F = typename V::F;
  // The same for every tile size, so that a row's result does not depend on how many rows or
  // panels are computed with it (batched sequences, thread splits): each output sums
  // k = c mod kChains in chain c, then the chains. Two chains keep decode's one-row tile (memory
  // bound, a fraction of an FMA per cycle) clear of the FMA latency and leave prefill the
  // registers for 2 panels x 6 rows; with four, a tile was held to 2 x 3 and its loads and
  // conversions took the FMAs' issue slots (45-50% of the FMA peak, 55-65% now).
  constexpr int kChains = 2;
  constexpr int64_t kStep = 2 * kPanelRows * (kType == TensorType::F32 ? 2 : 1);
  F acc[T][P][kChains];
  const float* xr[T];
  for (int t = 0; t < T; ++t) {
    xr[t] = x.x + (t0 + t) * x.k;
    for (int q = 0; q < P; ++q)
      for (int c = 0; c < kChains; ++c) acc[t][q][c] = V::zero();
  }
  int64_t i = 0;
  for (; i + kChains <= k; i += kChains) {
    if constexpr (T == 1 && P == 1) prefetch_ahead(panel + i * kStep, kChains * kStep);  // decode
    for (int c = 0; c < kChains; ++c) {
      F w[P];
      for (int q = 0; q < P; ++q) w[q] = load_column<V, kType>(panel + q * panel_stride + (i + c) * kStep);
      for (int t = 0; t < T; ++t) {
        const F xs = V::splatf(xr[t][i + c]);
        for (int q = 0; q < P; ++q) acc[t][q][c] = V::fma(w[q], xs, acc[t][q][c]);
      }
    }
  }
  for (; i < k; ++i) {
    for (int q = 0; q < P; ++q) {
      const F w = load_column<V, kType>(panel + q * panel_stride + i * kStep);
      for (int t = 0; t < T; ++t) acc[t][q][0] = V::fma(w, V::splatf(xr[t][i]), acc[t][q][0]);
    }
  }
  for (int t = 0; t < T; ++t) {
    for (int q = 0; q < P; ++q) {
      F total = acc[t][q][0];
      for (int c = 1; c < kChains; ++c) total = V::add(total, acc[t][q][c]);
      store_rows<V>(y + (t0 + t) * y_stride + q * kPanelRows, total, q == P - 1 ? valid_last : kPanelRows);
    }
  }
}

template <class V, TensorType kType>
void float_gemm(const MatrixView& w, const FloatRows& x, int64_t n_rows, float* y, int64_t y_stride,
                int64_t panel_begin, int64_t panel_end) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t stride = panel_bytes(kType, w.cols);
  auto valid_rows = [&](int64_t p) { return std::min<int64_t>(kPanelRows, w.rows - p * kPanelRows); };
  for (int64_t r0 = 0; r0 < n_rows; r0 += kRowBlock) {
    const int64_t r1 = std::min(n_rows, r0 + kRowBlock);
    int64_t p = panel_begin;
    // Pairs of panels (only the second can be the matrix's short last panel), then one alone;
    // decode (fewer rows than a pair tile) measured slower in pairs end to end: prefill only.
    if constexpr (V::kFloatPanels == 2) {
      for (; r1 - r0 >= V::kFloatPairTile && p + 2 <= panel_end; p += 2) {
        for_tiles<V::kFloatPairTile>(r0, r1, [&](auto tile, int64_t t0) {
          float_tile<V, kType, 2, decltype(tile)::value>(base + p * stride, stride, w.cols, x, t0, y + p * kPanelRows,
                                                         y_stride, valid_rows(p + 1));
        });
      }
    }
    for (; p < panel_end; ++p) {
      for_tiles<V::kFloatTile>(r0, r1, [&](auto tile, int64_t t0) {
        float_tile<V, kType, 1, decltype(tile)::value>(base + p * stride, stride, w.cols, x, t0, y + p * kPanelRows,
                                                       y_stride, valid_rows(p));
      });
    }
  }
}

template <class V, TensorType kType>
FamilyKernels float_family_kernels() {
  return {float_gemm<V, kType>, nullptr, 0};
}

template <class V>
void quantize_rows(const float* x, int64_t n_rows, int64_t k, int32_t bias, const Int8Rows& out) {
  const int64_t blocks = k / 32;
  for (int64_t t = 0; t < n_rows; ++t) {
    for (int64_t b = 0; b < blocks; ++b) {
      float scale;
      int32_t sum;
      if (out.lo)
        V::quantize_block_split(x + t * k + 32 * b, out.q + t * k + 32 * b, out.lo + t * k + 32 * b, scale, sum);
      else
        V::quantize_block(x + t * k + 32 * b, out.q + t * k + 32 * b, scale, sum);
      out.scale[t * blocks + b] = scale;
      // Wrapping arithmetic: a block of NaN or infinity (a hostile model) quantizes to codes whose
      // sum is garbage; the product must not overflow a signed int (undefined behaviour).
      out.offset[t * blocks + b] = int32_t(0u - uint32_t(bias) * uint32_t(sum));
      out.scaled_sum[t * blocks + b] = scale * float(sum);
    }
  }
}

}  // namespace
}  // namespace phirun
