// GPTQ's column sweep, row by row (rows are independent once U is known):
//   for each block of 32 columns: choose the row's block scale from its current values, then for
//   each column i of the block: q = round(w_i), e = (w_i - q) / U[i][i], w_k -= e U[i][k] for the
//   block's later columns; after the block, w_k -= sum_i e_i U[i][k] for every later column.
#include "models/builder/gptq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"

namespace phirun::builder {

namespace {

constexpr int B = kQuantBlock;

// Dot product of two double rows in 8 independent lanes (vectorizes without -ffast-math).
double dot(const double* a, const double* b, int64_t n) {
  double lanes[8] = {};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int l = 0; l < 8; ++l) lanes[l] += a[k + l] * b[k + l];
  for (int l = 0; k + l < n; ++l) lanes[l] += a[k + l] * b[k + l];
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

// In-place Cholesky factorisation of a symmetric positive-definite matrix, row by row: the lower
// factor L (A = L Lᵀ) replaces A's lower triangle; the upper triangle is zeroed.
bool cholesky_lower(std::vector<double>& a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double* row = a.data() + i * n;
    for (int64_t j = 0; j < i; ++j) {
      const double* other = a.data() + j * n;
      row[j] = (row[j] - dot(row, other, j)) / other[j];
    }
    const double diagonal = row[i] - dot(row, row, i);
    if (!(diagonal > 0.0)) return false;
    row[i] = std::sqrt(diagonal);
    std::fill(row + i + 1, row + n, 0.0);
  }
  return true;
}

// X = L⁻¹ for a lower-triangular L, row by row: X[i] = (e_i - sum_k<i L[i][k] X[k]) / L[i][i],
// each term an axpy over a row of X (vectorizes).
std::vector<double> inverse_lower(const std::vector<double>& l, int64_t n) {
  std::vector<double> x(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double* row = x.data() + i * n;
    for (int64_t k = 0; k < i; ++k) {
      const double factor = l[size_t(i * n + k)];
      const double* other = x.data() + k * n;
      for (int64_t j = 0; j <= k; ++j) row[j] -= factor * other[j];
    }
    row[i] = 1.0;
    const double inverse_diagonal = 1.0 / l[size_t(i * n + i)];
    for (int64_t j = 0; j <= i; ++j) row[j] *= inverse_diagonal;
  }
  return x;
}

// The levels and block parameters a block search chose, decoded.
struct BlockScale {
  float d = 0.0f, m = 0.0f;  // x̂ = d * (q - offset) + m
  float lo = 0.0f, hi = 0.0f;
  float offset = 0.0f;
};

BlockScale decode_scale(TensorType type, const uint8_t* block) {
  BlockScale scale;
  uint16_t half;
  std::memcpy(&half, block, 2);
  scale.d = fp16_to_fp32(half);
  if (type == TensorType::Q8_0) {
    scale.lo = -127.0f, scale.hi = 127.0f;
  } else if (type == TensorType::Q4_0) {
    scale.lo = 0.0f, scale.hi = 15.0f, scale.offset = 8.0f;
  } else {
    std::memcpy(&half, block + 2, 2);
    scale.m = fp16_to_fp32(half);
    scale.lo = 0.0f, scale.hi = 15.0f;
  }
  return scale;
}

inline int level_of(const BlockScale& scale, float w) {
  return int(std::clamp(std::nearbyint((w - scale.m) / scale.d + scale.offset), scale.lo, scale.hi));
}

}  // namespace

bool inverse_cholesky_upper(const float* gram, int64_t n, double damp_fraction, std::vector<double>& upper) {
  double mean_diagonal = 0.0;
  for (int64_t i = 0; i < n; ++i) mean_diagonal += gram[i * n + i];
  mean_diagonal /= double(n);
  const double damp = damp_fraction * (mean_diagonal > 0.0 ? mean_diagonal : 1.0);
  // We need U upper with H⁻¹ = Uᵀ U, i.e. H = V Vᵀ with V = U⁻¹ upper. With P the reversal of
  // the order, P H P = (P V P)(P V P)ᵀ is a plain lower Cholesky factorisation, so
  // U = P (chol(P H P))⁻¹ P: one factorisation and one triangular inverse, no product.
  std::vector<double> reversed(size_t(n * n));
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) reversed[size_t(a * n + b)] = gram[(n - 1 - a) * n + (n - 1 - b)];
  for (int64_t a = 0; a < n; ++a) {
    double& diagonal = reversed[size_t(a * n + a)];
    // A column never active carries no information: GPTQ sets its diagonal to 1.
    if (!(diagonal > 0.0)) diagonal = 1.0;
    diagonal += damp;
  }
  if (!cholesky_lower(reversed, n)) return false;
  const std::vector<double> x = inverse_lower(reversed, n);
  upper.assign(size_t(n * n), 0.0);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = a; b < n; ++b) upper[size_t(a * n + b)] = x[size_t((n - 1 - a) * n + (n - 1 - b))];
  return true;
}

void quantize_gptq(TensorType type, float* weights, int64_t rows, int64_t cols, const float* gram, void* out,
                   const QuantSearch& search) {
  if (type != TensorType::Q8_0 && type != TensorType::Q4_0 && type != TensorType::Q4_1)
    throw std::invalid_argument("quantize_gptq: not a block type");
  std::vector<double> upper;
  // GPTQ's default dampening, 1% of the mean diagonal; more if the matrix is barely invertible.
  double damp = 0.01;
  while (!inverse_cholesky_upper(gram, cols, damp, upper)) {
    damp *= 10.0;
    if (damp > 10.0) throw std::runtime_error("quantize_gptq: the activation matrix cannot be factorised");
  }
  std::vector<float> u(upper.begin(), upper.end());
  std::vector<float> importance(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) importance[size_t(i)] = std::max(gram[i * cols + i], 0.0f);

  const TypeTraits& traits = type_traits(type);
  const uint64_t row_out = *row_bytes(type, cols);
  auto* bytes = static_cast<uint8_t*>(out);
  std::vector<float> errors(B);
  for (int64_t r = 0; r < rows; ++r) {
    float* w = weights + r * cols;
    uint8_t* row_blocks = bytes + uint64_t(r) * row_out;
    for (int64_t g = 0; g < cols; g += B) {
      uint8_t* block = row_blocks + (g / B) * traits.block_bytes;
      // The scale of this block, from the error-corrected values as they stand now.
      quantize_row_search(type, w + g, importance.data() + g, block, B, search);
      const BlockScale scale = decode_scale(type, block);
      int levels[B];
      for (int i = 0; i < B; ++i) {
        const int64_t column = g + i;
        const int level = scale.d == 0.0f ? int(scale.offset) : level_of(scale, w[column]);
        levels[i] = level;
        const float quantized = scale.d * (float(level) - scale.offset) + scale.m;
        const float* u_row = u.data() + column * cols;
        const float error = (w[column] - quantized) / u_row[column];
        errors[size_t(i)] = error;
        for (int64_t k = column + 1; k < g + B; ++k) w[k] -= error * u_row[k];
        w[column] = quantized;
      }
      // The block's errors fall on every later column at once (GPTQ's lazy batch update).
      for (int i = 0; i < B; ++i) {
        const float* u_row = u.data() + (g + i) * cols;
        const float error = errors[size_t(i)];
        for (int64_t k = g + B; k < cols; ++k) w[k] -= error * u_row[k];
      }
      // Write the levels the sweep chose, with the block's scale.
      if (type == TensorType::Q8_0) {
        auto* q8 = reinterpret_cast<block_q8_0*>(block);
        for (int i = 0; i < B; ++i) q8->qs[i] = int8_t(levels[i]);
      } else {
        uint8_t* qs = block + (type == TensorType::Q4_0 ? 2 : 4);
        for (int i = 0; i < B / 2; ++i) qs[i] = uint8_t(levels[i] | (levels[i + B / 2] << 4));
      }
    }
  }
}

}  // namespace phirun::builder
