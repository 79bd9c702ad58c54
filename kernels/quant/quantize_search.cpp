// Per-block searches behind quantize_row_search. Each block of 32 is fitted on its own:
//   1. try candidate scales around the plain rounding rule's, scoring each by the weighted
//      least-squares error it allows ((sum w x q)^2 / sum w q^2 is the error removed);
//   2. refit the best candidate's scale (and minimum) by weighted least squares, round it to f16,
//      re-round the levels to that f16 scale, and repeat while the true error falls.
// The loops run over fixed 32-element arrays so the compiler vectorizes them.
#include "kernels/quant/quantize_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"

namespace phirun {
namespace {

constexpr int B = kQuantBlock;

// Round half to even for |v| < 2^22, without a library call (vectorizes; needs no -ffast-math).
inline float round_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

inline float f16_round(float v) { return fp16_to_fp32(fp32_to_fp16(v)); }

// --- symmetric formats: x̂ = d * q, q in [lo, hi] -------------------------------------------------

struct SymmetricFit {
  float d = 0.0f;
  float error = 0.0f;
  float q[B] = {};
};

inline void round_levels(const float* x, float inverse, float lo, float hi, float* q) {
  for (int j = 0; j < B; ++j) q[j] = std::clamp(round_even(x[j] * inverse), lo, hi);
}

// The error of levels q with the least-squares scale rounded to f16.
inline void settle_symmetric(const float* x, const float* w, SymmetricFit& fit) {
  float sum_wxq = 0.0f, sum_wqq = 0.0f;
  for (int j = 0; j < B; ++j) {
    sum_wxq += w[j] * x[j] * fit.q[j];
    sum_wqq += w[j] * fit.q[j] * fit.q[j];
  }
  fit.d = sum_wqq > 0.0f ? f16_round(sum_wxq / sum_wqq) : 0.0f;
  float error = 0.0f;
  for (int j = 0; j < B; ++j) {
    const float diff = x[j] - fit.d * fit.q[j];
    error += w[j] * diff * diff;
  }
  fit.error = error;
}

SymmetricFit fit_symmetric(const float* x, const float* w, float lo, float hi, const float* candidates,
                           int n_candidates, float extreme) {
  SymmetricFit best;
  float best_score = -1.0f;
  for (int c = 0; c < n_candidates; ++c) {
    const float inverse = candidates[c] / extreme;
    float q[B];
    round_levels(x, inverse, lo, hi, q);
    float sum_wxq = 0.0f, sum_wqq = 0.0f;
    for (int j = 0; j < B; ++j) {
      sum_wxq += w[j] * x[j] * q[j];
      sum_wqq += w[j] * q[j] * q[j];
    }
    if (sum_wqq <= 0.0f) continue;
    const float score = sum_wxq * sum_wxq / sum_wqq;
    if (score > best_score) {
      best_score = score;
      std::memcpy(best.q, q, sizeof q);
    }
  }
  settle_symmetric(x, w, best);
  // Refine: levels re-rounded to the f16 scale, scale refitted to the levels, while it helps.
  for (int iteration = 0; iteration < 3 && best.d != 0.0f; ++iteration) {
    SymmetricFit next;
    round_levels(x, 1.0f / best.d, lo, hi, next.q);
    settle_symmetric(x, w, next);
    if (!(next.error < best.error)) break;
    best = next;
  }
  return best;
}

float largest_magnitude(const float* x, float& signed_extreme) {
  float amax = 0.0f;
  signed_extreme = 0.0f;
  for (int j = 0; j < B; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      signed_extreme = x[j];
    }
  }
  return amax;
}

void block_q8_0_search(const float* x, const float* w, const QuantSearch& search, block_q8_0& out) {
  float extreme;
  const float amax = largest_magnitude(x, extreme);
  out.d = 0;
  std::memset(out.qs, 0, sizeof out.qs);
  if (!(amax > 0.0f)) return;
  // 127 levels leave little to gain from clipping: a few candidates just below max-abs rounding.
  float candidates[8];
  int n = 0;
  const int steps = std::clamp(search.steps / 4, 1, 8);
  for (int s = 0; s < steps; ++s) candidates[n++] = 127.0f - 2.0f * float(s) / float(steps);
  const SymmetricFit fit = fit_symmetric(x, w, -127.0f, 127.0f, candidates, n, amax);
  out.d = fp32_to_fp16(fit.d);
  for (int j = 0; j < B; ++j) out.qs[j] = int8_t(fit.q[j]);
}

void block_q4_0_search(const float* x, const float* w, const QuantSearch& search, block_q4_0& out) {
  float extreme;
  const float amax = largest_magnitude(x, extreme);
  std::memset(&out, 0, sizeof out);
  if (!(amax > 0.0f)) {
    std::memset(out.qs, 0x88, sizeof out.qs);  // level 8 is zero
    return;
  }
  // The plain rule maps the extreme value to -8 (the longer side of [-8, 7]); also try mapping it
  // to +7, and scales around both, since clipping one outlier can shrink every other error.
  float candidates[64];
  int n = 0;
  const int steps = std::clamp(search.steps, 1, 32);
  for (int s = 0; s < steps; ++s) {
    const float offset = -1.0f + 2.0f * float(s) / float(std::max(1, steps - 1));
    candidates[n++] = -8.0f - 0.5f * offset;
    candidates[n++] = 7.0f + 0.5f * offset;
  }
  const SymmetricFit fit = fit_symmetric(x, w, -8.0f, 7.0f, candidates, n, extreme);
  out.d = fp32_to_fp16(fit.d);
  for (int j = 0; j < B / 2; ++j) out.qs[j] = uint8_t(int(fit.q[j] + 8.0f) | (int(fit.q[j + B / 2] + 8.0f) << 4));
}

// --- Q4_1: x̂ = d * q + m, q in [0, 15] ---------------------------------------------------------

struct AffineFit {
  float d = 0.0f, m = 0.0f, error = 0.0f;
  float q[B] = {};
};

// Weighted least squares for (d, m) given the levels, both rounded to f16, and the true error.
inline void settle_affine(const float* x, const float* w, AffineFit& fit) {
  float sw = 0, swq = 0, swqq = 0, swx = 0, swxq = 0;
  for (int j = 0; j < B; ++j) {
    sw += w[j];
    swq += w[j] * fit.q[j];
    swqq += w[j] * fit.q[j] * fit.q[j];
    swx += w[j] * x[j];
    swxq += w[j] * x[j] * fit.q[j];
  }
  const float determinant = sw * swqq - swq * swq;
  if (determinant > 1e-20f * sw * swqq) {
    fit.d = (sw * swxq - swq * swx) / determinant;
    fit.m = (swqq * swx - swq * swxq) / determinant;
  } else {  // every level equal: the block is one value
    fit.d = 0.0f;
    fit.m = sw > 0.0f ? swx / sw : 0.0f;
  }
  fit.d = f16_round(fit.d);
  fit.m = f16_round(fit.m);
  float error = 0.0f;
  for (int j = 0; j < B; ++j) {
    const float diff = x[j] - (fit.d * fit.q[j] + fit.m);
    error += w[j] * diff * diff;
  }
  fit.error = error;
}

inline void round_affine(const float* x, float minimum, float inverse, float* q) {
  for (int j = 0; j < B; ++j) q[j] = std::clamp(round_even((x[j] - minimum) * inverse), 0.0f, 15.0f);
}

void block_q4_1_search(const float* x, const float* w, const QuantSearch& search, block_q4_1& out) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < B; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  AffineFit best;
  best.error = -1.0f;
  if (hi > lo) {
    // Candidates stretch or shrink the grid around [lo, hi] (llama.cpp's make_qkx2 idea), each
    // followed by a least-squares fit of scale and minimum.
    const int steps = std::clamp(search.steps, 1, 32);
    for (int s = 0; s <= steps; ++s) {
      AffineFit candidate;
      const float levels = 15.0f - 1.0f + 2.0f * float(s) / float(steps);
      round_affine(x, lo, levels / (hi - lo), candidate.q);
      settle_affine(x, w, candidate);
      if (best.error < 0.0f || candidate.error < best.error) best = candidate;
    }
    for (int iteration = 0; iteration < 3 && best.d > 0.0f; ++iteration) {
      AffineFit next;
      round_affine(x, best.m, 1.0f / best.d, next.q);
      settle_affine(x, w, next);
      if (!(next.error < best.error)) break;
      best = next;
    }
  } else {
    best.m = f16_round(lo);
  }
  out.d = fp32_to_fp16(best.d);
  out.m = fp32_to_fp16(best.m);
  for (int j = 0; j < B / 2; ++j) out.qs[j] = uint8_t(int(best.q[j]) | (int(best.q[j + B / 2]) << 4));
}

template <typename Block, void (*Fit)(const float*, const float*, const QuantSearch&, Block&)>
void quantize_blocks(const float* x, const float* importance, void* out, int64_t n, const QuantSearch& search) {
  auto* blocks = static_cast<Block*>(out);
  float ones[B];
  std::fill(ones, ones + B, 1.0f);
  for (int64_t b = 0; b < n / B; ++b) {
    const float* w = importance ? importance + b * B : ones;
    // A block whose columns all carry zero weight (inputs never active in calibration) is fitted
    // for plain squared error rather than left arbitrary.
    float total = 0.0f;
    for (int j = 0; j < B; ++j) total += w[j];
    Fit(x + b * B, total > 0.0f ? w : ones, search, blocks[b]);
  }
}

}  // namespace

void quantize_row_search(TensorType type, const float* x, const float* importance, void* out, int64_t n,
                         const QuantSearch& search) {
  if (search.plain_rounding) {
    type_traits(type).quantize(x, out, n);
    return;
  }
  switch (type) {
    case TensorType::Q8_0:
      quantize_blocks<block_q8_0, block_q8_0_search>(x, importance, out, n, search);
      return;
    case TensorType::Q4_0:
      quantize_blocks<block_q4_0, block_q4_0_search>(x, importance, out, n, search);
      return;
    case TensorType::Q4_1:
      quantize_blocks<block_q4_1, block_q4_1_search>(x, importance, out, n, search);
      return;
    default:
      type_traits(type).quantize(x, out, n);
  }
}

QuantError quantization_error(TensorType type, const float* x, const float* importance, const void* quantized,
                              int64_t n) {
  float values[B];
  QuantError result;
  const TypeTraits& traits = type_traits(type);
  const auto* bytes = static_cast<const uint8_t*>(quantized);
  const int64_t step = traits.block_elements == 1 ? B : traits.block_elements;
  for (int64_t i = 0; i < n; i += step) {
    const int64_t count = std::min<int64_t>(step, n - i);
    traits.dequantize(bytes + (i / traits.block_elements) * traits.block_bytes, values, count);
    for (int64_t j = 0; j < count; ++j) {
      const double w = importance ? importance[i + j] : 1.0;
      const double diff = double(x[i + j]) - double(values[j]);
      result.error += w * diff * diff;
      result.energy += w * double(x[i + j]) * double(x[i + j]);
    }
  }
  return result;
}

}  // namespace phirun
