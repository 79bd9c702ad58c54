// Activation rows as the matmul kernels take them. Float rows carry, for block-type weights,
// the sum of each block of 32 (to apply the weights' offset once per block). Int8 rows are
// quantized per block of 32: x ≈ scale · q with q in [-127, 127] (scale = max|x| / 127, q
// rounded to nearest even), plus per block the integer offset term -bias · Σq (bias: what the
// weight codes carry on top of their signed value) and scale · Σq (for Q4_1's minimum).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace phirun {

struct FloatRows {
  const float* x = nullptr;           // [n_rows][k]
  const float* block_sums = nullptr;  // [n_rows][k / 32], block-type weights only
  int64_t k = 0;
};

struct Int8Rows {
  int8_t* q = nullptr;          // [n_rows][k]
  float* scale = nullptr;       // [n_rows][k / 32]
  int32_t* offset = nullptr;    // [n_rows][k / 32]: -bias * sum(q)
  float* scaled_sum = nullptr;  // [n_rows][k / 32]: scale * sum(q)
  int64_t k = 0;
};

// Storage for Int8Rows; grows, never shrinks.
struct Int8Buffers {
  std::vector<int8_t> q;
  std::vector<float> scale, scaled_sum;
  std::vector<int32_t> offset;

  Int8Rows view(int64_t k) { return {q.data(), scale.data(), offset.data(), scaled_sum.data(), k}; }
  void reserve_rows(int64_t n_rows, int64_t k) {
    const auto blocks = size_t(n_rows * (k / 32));
    if (q.size() < size_t(n_rows * k)) q.resize(size_t(n_rows * k));
    if (scale.size() < blocks) {
      scale.resize(blocks);
      scaled_sum.resize(blocks);
      offset.resize(blocks);
    }
  }
};

// The reference quantizer of one block of 32 values; every variant must match it bit for bit.
void quantize_block_int8_ref(const float* x, int8_t* q, float& scale, int32_t& sum);

}  // namespace phirun
