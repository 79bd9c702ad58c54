// Activation rows as the matmul kernels take them. Float rows carry, for block-type weights,
// the sum of each block of 32 (to apply the weights' offset once per block). Int8 rows are
// quantized per block of 32: x ≈ scale · q with q in [-127, 127] (scale = max|x| / 127, q
// rounded to nearest even), plus per block the integer offset term -bias · Σq (bias: what the
// weight codes carry on top of their signed value) and scale · Σq (for Q4_1's minimum).
// Split rows (--accuracy int16) add a second plane: x ≈ s · (hi + lo / 256) with hi as above
// and lo the rounded remainder in 1/256ths; they store scale = s / 256 and take for "q" the
// combined code 256 · hi + lo in the offset and scaled sum, so kernels add 256 · dot(w, hi) +
// dot(w, lo) in int32 (at most 32 · 255 · 127 · 257 < 2^31) and scale it as int8 rows do.
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
  int8_t* lo = nullptr;  // [n_rows][k]: the low plane of split rows; nullptr for plain int8
};

// Storage for Int8Rows; grows, never shrinks.
struct Int8Buffers {
  std::vector<int8_t> q, lo;
  std::vector<float> scale, scaled_sum;
  std::vector<int32_t> offset;

  // split: a view of split rows (reserve_rows(..., true) first).
  Int8Rows view(int64_t k, bool split = false) {
    return {q.data(), scale.data(), offset.data(), scaled_sum.data(), k, split ? lo.data() : nullptr};
  }
  void reserve_rows(int64_t n_rows, int64_t k, bool split = false) {
    const auto blocks = size_t(n_rows * (k / 32));
    if (q.size() < size_t(n_rows * k)) q.resize(size_t(n_rows * k));
    if (split && lo.size() < size_t(n_rows * k)) lo.resize(size_t(n_rows * k));
    if (scale.size() < blocks) {
      scale.resize(blocks);
      scaled_sum.resize(blocks);
      offset.resize(blocks);
    }
  }
};

// The reference quantizer of one block of 32 values; every variant must match it bit for bit.
void quantize_block_int8_ref(const float* x, int8_t* q, float& scale, int32_t& sum);
// The reference split quantizer (see above): scale = s / 256, sum = Σ(256 · hi + lo).
void quantize_block_split_ref(const float* x, int8_t* hi, int8_t* lo, float& scale, int32_t& sum);

}  // namespace phirun
