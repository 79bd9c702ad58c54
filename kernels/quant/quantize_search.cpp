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

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace phirun {
namespace {

constexpr int B = kQuantBlock;
constexpr float kF16Max = 65504.0f;  // a scale past this would round to infinity

// Round half to even for |v| < 2^22, without a library call (vectorizes; needs no -ffast-math).
inline float round_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

// f16 rounding (to nearest even), in hardware where F16C exists: the same result as half.h's.
inline uint16_t to_f16(float v) {
#if defined(__F16C__)
  return uint16_t(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT));
#else
  return fp32_to_fp16(v);
#endif
}

inline float f16_round(float v) {
#if defined(__F16C__)
  return _cvtsh_ss(to_f16(v));
#else
  return fp16_to_fp32(fp32_to_fp16(v));
#endif
}

// Sums over a block as 16 independent lanes, then lanes added pairwise: the loops vectorize
// without -ffast-math (no reassociation is needed) and the result does not depend on the ISA.
struct Lanes {
  float v[16] = {};
  float total() const {
    float half[8], quarter[4];
    for (int k = 0; k < 8; ++k) half[k] = v[k] + v[k + 8];
    for (int k = 0; k < 4; ++k) quarter[k] = half[k] + half[k + 4];
    return (quarter[0] + quarter[2]) + (quarter[1] + quarter[3]);
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

// The least-squares scale of the levels, rounded to f16, and the error it leaves, from the sums:
// sum w (x - d q)^2 = sum w x^2 - 2 d sum w x q + d^2 sum w q^2.
inline void settle_symmetric(float sum_wxx, float sum_wxq, float sum_wqq, SymmetricFit& fit) {
  fit.d = sum_wqq > 0.0f ? f16_round(std::clamp(sum_wxq / sum_wqq, -kF16Max, kF16Max)) : 0.0f;
  fit.error = sum_wxx - 2.0f * fit.d * sum_wxq + fit.d * fit.d * sum_wqq;
}

// Candidates are scored 16 at a time with the candidates as the vector lanes: each lane
// accumulates its own sums over the 32 values in order, so no horizontal reduction is needed.
constexpr int kCandidateLanes = 16;
constexpr int kRefinements = 2;  // f16 rescale-and-reround passes after the search

// The candidate whose levels remove the most weighted error: (sum w x q)^2 / sum w q^2.
float best_inverse_scale(const float* x, const float* w, float lo, float hi, const float* inverses, int n) {
  float best_score = -1.0f, best = inverses[0];
  for (int first = 0; first < n; first += kCandidateLanes) {
    // Four partial sums per lane (values j, j+1, j+2, j+3 of each group of four) keep four
    // independent chains of additions in flight instead of one 32 long.
    constexpr int kChains = 4;
    float inverse[kCandidateLanes], sum_wxq[kCandidateLanes] = {}, sum_wqq[kCandidateLanes] = {};
    float partial_xq[kChains][kCandidateLanes] = {}, partial_qq[kChains][kCandidateLanes] = {};
    for (int c = 0; c < kCandidateLanes; ++c) inverse[c] = inverses[std::min(first + c, n - 1)];
    for (int j = 0; j < B; j += kChains)
      for (int chain = 0; chain < kChains; ++chain) {
        const float xj = x[j + chain], wj = w[j + chain], wxj = wj * xj;
        for (int c = 0; c < kCandidateLanes; ++c) {
          const float level = clamp_level(round_even(xj * inverse[c]), lo, hi);
          partial_xq[chain][c] += wxj * level;
          partial_qq[chain][c] += wj * level * level;
        }
      }
    for (int c = 0; c < kCandidateLanes; ++c) {
      sum_wxq[c] = (partial_xq[0][c] + partial_xq[1][c]) + (partial_xq[2][c] + partial_xq[3][c]);
      sum_wqq[c] = (partial_qq[0][c] + partial_qq[1][c]) + (partial_qq[2][c] + partial_qq[3][c]);
    }
    for (int c = 0; c < kCandidateLanes && first + c < n; ++c) {
      if (sum_wqq[c] <= 0.0f) continue;
      const float score = sum_wxq[c] * sum_wxq[c] / sum_wqq[c];
      if (score > best_score) {
        best_score = score;
        best = inverse[c];
      }
    }
  }
  return best;
}

// The candidate levels for the extreme value of a block (the longest-magnitude one), made once
// per row: the block's inverse scales are these divided by its extreme.
struct Candidates {
  float levels[4 * kCandidateLanes];
  int n = 0;
};

SymmetricFit fit_symmetric(const float* x, const float* w, float lo, float hi, const Candidates& candidates,
                           float extreme) {
  float inverses[4 * kCandidateLanes] = {};
  const float reciprocal = 1.0f / extreme;
  for (int c = 0; c < candidates.n; ++c) inverses[c] = candidates.levels[c] * reciprocal;
  Lanes xx;
  for (int h = 0; h < B; h += 16)
    for (int k = 0; k < 16; ++k) xx.v[k] += w[h + k] * x[h + k] * x[h + k];
  const float sum_wxx = xx.total();
  SymmetricFit best;
  float sum_wxq, sum_wqq;
  round_levels(x, w, best_inverse_scale(x, w, lo, hi, inverses, candidates.n), lo, hi, best.q, sum_wxq, sum_wqq);
  settle_symmetric(sum_wxx, sum_wxq, sum_wqq, best);
  // Refine: levels re-rounded to the f16 scale, scale refitted to the levels, while it helps.
  for (int iteration = 0; iteration < kRefinements && best.d != 0.0f; ++iteration) {
    SymmetricFit next;
    round_levels(x, w, 1.0f / best.d, lo, hi, next.q, sum_wxq, sum_wqq);
    settle_symmetric(sum_wxx, sum_wxq, sum_wqq, next);
    if (!(next.error < best.error)) break;
    best = next;
  }
  return best;
}

// The value of largest magnitude (the positive one when +a and -a tie), without branches.
float largest_magnitude(const float* x, float& signed_extreme) {
  float high[16], low[16];
  for (int k = 0; k < 16; ++k) {
    high[k] = std::max(x[k], x[k + 16]);
    low[k] = std::min(x[k], x[k + 16]);
  }
  float maximum = high[0], minimum = low[0];
  for (int k = 1; k < 16; ++k) {
    maximum = std::max(maximum, high[k]);
    minimum = std::min(minimum, low[k]);
  }
  signed_extreme = maximum >= -minimum ? maximum : minimum;
  return std::fabs(signed_extreme);
}

Candidates q8_0_candidates(const QuantSearch& search) {
  // 127 levels leave little to gain from clipping: the max-abs scale and a few just below it.
  Candidates candidates;
  const int steps = std::clamp(search.steps, 1, kCandidateLanes - 1);
  for (int s = 0; s <= steps; ++s) candidates.levels[candidates.n++] = 127.0f - 2.0f * float(s) / float(steps);
  return candidates;
}

void block_q8_0_search(const float* x, const float* w, const Candidates& candidates, block_q8_0& out) {
  float extreme;
  const float amax = largest_magnitude(x, extreme);
  out.d = 0;
  std::memset(out.qs, 0, sizeof out.qs);
  if (!(amax > 0.0f)) return;
  const SymmetricFit fit = fit_symmetric(x, w, -127.0f, 127.0f, candidates, amax);
  out.d = to_f16(fit.d);
  for (int j = 0; j < B; ++j) out.qs[j] = int8_t(int(fit.q[j]));
}

Candidates q4_0_candidates(const QuantSearch& search) {
  // The plain rule maps the extreme value to -8 (the longer side of [-8, 7]); also try mapping it
  // to +7, and scales around both (up to half a level either way), since clipping one outlier can
  // shrink every other error. The plain rule's own scale is always among the candidates.
  Candidates candidates;
  const int steps = std::clamp(search.steps, 1, 15);  // 2 * (2 * 15 + 1) = 62 candidates at most
  candidates.levels[candidates.n++] = -8.0f;
  for (int s = -steps; s <= steps; ++s) {
    const float offset = 0.5f * float(s) / float(steps);
    if (s != 0) candidates.levels[candidates.n++] = -8.0f + offset;
    candidates.levels[candidates.n++] = 7.0f + offset;
  }
  return candidates;
}

void block_q4_0_search(const float* x, const float* w, const Candidates& candidates, block_q4_0& out) {
  float extreme;
  const float amax = largest_magnitude(x, extreme);
  std::memset(&out, 0, sizeof out);
  if (!(amax > 0.0f)) {
    std::memset(out.qs, 0x88, sizeof out.qs);  // level 8 is zero
    return;
  }
  const SymmetricFit fit = fit_symmetric(x, w, -8.0f, 7.0f, candidates, extreme);
  out.d = to_f16(fit.d);
  uint8_t levels[B];
  for (int j = 0; j < B; ++j) levels[j] = uint8_t(int(fit.q[j]) + 8);
  for (int j = 0; j < B / 2; ++j) out.qs[j] = uint8_t(levels[j] | (levels[j + B / 2] << 4));
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

Candidates q4_1_candidates(const QuantSearch& search) {
  // Grids of 15 +- up to one level over the block's range (llama.cpp's make_qkx2 idea).
  Candidates candidates;
  const int steps = std::clamp(search.steps, 1, (kCandidateLanes - 1) / 2);
  for (int s = -steps; s <= steps; ++s) candidates.levels[candidates.n++] = 15.0f + float(s) / float(steps);
  return candidates;
}

void block_q4_1_search(const float* x, const float* w, const Candidates& candidates, block_q4_1& out) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < B; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  AffineFit best;
  if (hi > lo) {
    // Each candidate grid is scored, lanes in parallel, by the error left after a weighted
    // least-squares fit of scale and minimum to its levels; the best is then fitted for real
    // (with f16 rounding).
    float inverse[kCandidateLanes];
    const float reciprocal = 1.0f / (hi - lo);
    for (int c = 0; c < kCandidateLanes; ++c)
      inverse[c] = candidates.levels[std::min(c, candidates.n - 1)] * reciprocal;
    float sw = 0, swx = 0, swxx = 0, swq[kCandidateLanes] = {}, swqq[kCandidateLanes] = {}, swxq[kCandidateLanes] = {};
    for (int j = 0; j < B; ++j) {
      const float offset = x[j] - lo, wj = w[j], wxj = w[j] * x[j];
      sw += wj;
      swx += wxj;
      swxx += wxj * x[j];
      for (int c = 0; c < kCandidateLanes; ++c) {
        const float level = clamp_level(round_even(offset * inverse[c]), 0.0f, 15.0f);
        swq[c] += wj * level;
        swqq[c] += wj * level * level;
        swxq[c] += wxj * level;
      }
    }
    float best_error = 0.0f, best_inverse = inverse[0];
    for (int c = 0; c < candidates.n; ++c) {
      // Residual of the 2x2 normal equations: sum w x^2 - [d m] . [sum w x q, sum w x].
      const float determinant = sw * swqq[c] - swq[c] * swq[c];
      if (!(determinant > 1e-20f * sw * swqq[c])) continue;
      const float d = (sw * swxq[c] - swq[c] * swx) / determinant;
      const float m = (swqq[c] * swx - swq[c] * swxq[c]) / determinant;
      const float error = swxx - d * swxq[c] - m * swx;
      if (c == 0 || error < best_error) {
        best_error = error;
        best_inverse = inverse[c];
      }
    }
    round_affine(x, lo, best_inverse, best.q);
    settle_affine(x, w, best);
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
  out.d = to_f16(best.d);
  out.m = to_f16(best.m);
  for (int j = 0; j < B / 2; ++j) out.qs[j] = uint8_t(int(best.q[j]) | (int(best.q[j + B / 2]) << 4));
}

template <typename Block, void (*Fit)(const float*, const float*, const Candidates&, Block&)>
void quantize_blocks(const float* x, const float* importance, void* out, int64_t n, const Candidates& candidates,
                     ValueWeighting weighting) {
  auto* blocks = static_cast<Block*>(out);
  float ones[B], weights[B];
  std::fill(ones, ones + B, 1.0f);
  float sigma2 = 0.0f;
  if (weighting == ValueWeighting::SigmaSquare) {
    Lanes squares;
    for (int64_t i = 0; i < n; i += 16)
      for (int k = 0; k < 16; ++k) squares.v[k] += x[i + k] * x[i + k];
    sigma2 = squares.total() / float(n);
  }
  for (int64_t b = 0; b < n / B; ++b) {
    const float* xb = x + b * B;
    const float* w = importance ? importance + b * B : ones;
    // A block whose columns all carry zero weight (inputs never active in calibration) is fitted
    // for plain squared error rather than left arbitrary.
    float largest = 0.0f;
    if (importance)
      for (int j = 0; j < B; ++j) largest = std::max(largest, w[j]);
    if (importance && !(largest > 0.0f)) w = ones;
    if (weighting != ValueWeighting::Uniform) {
      for (int j = 0; j < B; ++j)
        weights[j] = w[j] * (weighting == ValueWeighting::Square ? xb[j] * xb[j] + 1e-30f : sigma2 + xb[j] * xb[j]);
      w = weights;
    }
    Fit(xb, w, candidates, blocks[b]);
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
      quantize_blocks<block_q8_0, block_q8_0_search>(x, importance, out, n, q8_0_candidates(search), search.weighting);
      return;
    case TensorType::Q4_0:
      quantize_blocks<block_q4_0, block_q4_0_search>(x, importance, out, n, q4_0_candidates(search), search.weighting);
      return;
    case TensorType::Q4_1:
      quantize_blocks<block_q4_1, block_q4_1_search>(x, importance, out, n, q4_1_candidates(search), search.weighting);
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
