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
constexpr float kF16Max = 65504.0f;  // a scale past this would round to infinity

// Round half to even for |v| < 2^22, without a library call (vectorizes; needs no -ffast-math).
inline float round_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

inline float f16_round(float v) { return fp16_to_fp32(fp32_to_fp16(v)); }

// Sums over a block as 16 independent lanes, then lanes added pairwise: the loops vectorize
// without -ffast-math (no reassociation is needed) and the result does not depend on the ISA.
struct Lanes {
  float v[16] = {};
  float total() const {
    float t[8];
    for (int k = 0; k < 8; ++k) t[k] = v[k] + v[k + 8];
    for (int k = 0; k < 4; ++k) t[k] += t[k + 4];
    return (t[0] + t[2]) + (t[1] + t[3]);
  }
};

inline float clamp_level(float v, float lo, float hi) { return std::min(std::max(v, lo), hi); }

// --- symmetric formats: x̂ = d * q, q in [lo, hi] -------------------------------------------------

struct SymmetricFit {
  float d = 0.0f;
  float error = 0.0f;
  float q[B] = {};
};

// Levels for `inverse` (1/scale) and the two sums that score them.
inline void round_levels(const float* x, const float* w, float inverse, float lo, float hi, float* q, float& sum_wxq,
                         float& sum_wqq) {
  Lanes xq, qq;
  for (int h = 0; h < B; h += 16)
    for (int k = 0; k < 16; ++k) {
      const float level = clamp_level(round_even(x[h + k] * inverse), lo, hi);
      q[h + k] = level;
      xq.v[k] += w[h + k] * x[h + k] * level;
      qq.v[k] += w[h + k] * level * level;
    }
  sum_wxq = xq.total();
  sum_wqq = qq.total();
}

// The least-squares scale of the levels, rounded to f16, and the true error it leaves.
inline void settle_symmetric(const float* x, const float* w, float sum_wxq, float sum_wqq, SymmetricFit& fit) {
  fit.d = sum_wqq > 0.0f ? f16_round(std::clamp(sum_wxq / sum_wqq, -kF16Max, kF16Max)) : 0.0f;
  Lanes error;
  for (int h = 0; h < B; h += 16)
    for (int k = 0; k < 16; ++k) {
      const float diff = x[h + k] - fit.d * fit.q[h + k];
      error.v[k] += w[h + k] * diff * diff;
    }
  fit.error = error.total();
}

SymmetricFit fit_symmetric(const float* x, const float* w, float lo, float hi, const float* candidates,
                           int n_candidates, float extreme) {
  // Score every candidate by the error its levels allow: (sum w x q)^2 / sum w q^2 is removed.
  float best_score = -1.0f, best_inverse = 0.0f;
  for (int c = 0; c < n_candidates; ++c) {
    const float inverse = candidates[c] / extreme;
    float q[B], sum_wxq, sum_wqq;
    round_levels(x, w, inverse, lo, hi, q, sum_wxq, sum_wqq);
    if (sum_wqq <= 0.0f) continue;
    const float score = sum_wxq * sum_wxq / sum_wqq;
    if (score > best_score) {
      best_score = score;
      best_inverse = inverse;
    }
  }
  SymmetricFit best;
  float sum_wxq, sum_wqq;
  round_levels(x, w, best_inverse, lo, hi, best.q, sum_wxq, sum_wqq);
  settle_symmetric(x, w, sum_wxq, sum_wqq, best);
  // Refine: levels re-rounded to the f16 scale, scale refitted to the levels, while it helps.
  for (int iteration = 0; iteration < 2 && best.d != 0.0f; ++iteration) {
    SymmetricFit next;
    round_levels(x, w, 1.0f / best.d, lo, hi, next.q, sum_wxq, sum_wqq);
    settle_symmetric(x, w, sum_wxq, sum_wqq, next);
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
  // 127 levels leave little to gain from clipping: the max-abs scale and a few just below it.
  float candidates[33];
  int n = 0;
  const int steps = std::clamp(search.steps, 1, 32);
  for (int s = 0; s <= steps; ++s) candidates[n++] = 127.0f - 2.0f * float(s) / float(steps);
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
  // to +7, and scales around both (up to half a level either way), since clipping one outlier can
  // shrink every other error. The plain rule's own scale is always among the candidates.
  float candidates[130];
  int n = 0;
  const int steps = std::clamp(search.steps, 1, 32);
  for (int s = -steps; s <= steps; ++s) {
    const float offset = 0.5f * float(s) / float(steps);
    candidates[n++] = -8.0f + offset;
    candidates[n++] = 7.0f + offset;
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
  Lanes sw, swq, swqq, swx, swxq;
  for (int h = 0; h < B; h += 16)
    for (int k = 0; k < 16; ++k) {
      const float wq = w[h + k] * fit.q[h + k];
      sw.v[k] += w[h + k];
      swq.v[k] += wq;
      swqq.v[k] += wq * fit.q[h + k];
      swx.v[k] += w[h + k] * x[h + k];
      swxq.v[k] += wq * x[h + k];
    }
  const float n = sw.total(), q1 = swq.total(), q2 = swqq.total(), x1 = swx.total(), xq = swxq.total();
  const float determinant = n * q2 - q1 * q1;
  if (determinant > 1e-20f * n * q2) {
    fit.d = (n * xq - q1 * x1) / determinant;
    fit.m = (q2 * x1 - q1 * xq) / determinant;
  } else {  // every level equal: the block is one value
    fit.d = 0.0f;
    fit.m = n > 0.0f ? x1 / n : 0.0f;
  }
  fit.d = f16_round(std::clamp(fit.d, -kF16Max, kF16Max));
  fit.m = f16_round(std::clamp(fit.m, -kF16Max, kF16Max));
  Lanes error;
  for (int h = 0; h < B; h += 16)
    for (int k = 0; k < 16; ++k) {
      const float diff = x[h + k] - (fit.d * fit.q[h + k] + fit.m);
      error.v[k] += w[h + k] * diff * diff;
    }
  fit.error = error.total();
}

inline void round_affine(const float* x, float minimum, float inverse, float* q) {
  for (int j = 0; j < B; ++j) q[j] = clamp_level(round_even((x[j] - minimum) * inverse), 0.0f, 15.0f);
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
    for (int s = -steps; s <= steps; ++s) {
      AffineFit candidate;
      const float levels = 15.0f + float(s) / float(steps);
      round_affine(x, lo, levels / (hi - lo), candidate.q);
      settle_affine(x, w, candidate);
      if (best.error < 0.0f || candidate.error < best.error) best = candidate;
    }
    for (int iteration = 0; iteration < 2 && best.d > 0.0f; ++iteration) {
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
