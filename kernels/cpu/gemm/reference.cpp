// The scalar references shared by every family: activation quantization and the int8 dot
// dispatch by type.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/cpu/gemm/family_variants.h"

namespace phirun {

void quantize_block_int8_ref(const float* x, int8_t* q, float& scale, int32_t& sum) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  scale = amax / 127.0f;
  const float inverse = amax != 0.0f ? 127.0f / amax : 0.0f;
  sum = 0;
  for (int j = 0; j < 32; ++j) {
    q[j] = int8_t(std::nearbyint(x[j] * inverse));  // the default rounding: to nearest even
    sum += q[j];
  }
}

void quantize_block_split_ref(const float* x, int8_t* hi, int8_t* lo, float& scale, int32_t& sum) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  scale = amax / 127.0f * (1.0f / 256);  // a power of two: exact
  const float inverse = amax != 0.0f ? 127.0f / amax : 0.0f;
  sum = 0;
  for (int j = 0; j < 32; ++j) {
    const float v = x[j] * inverse;  // the same product as the int8 quantizer: hi equals its code
    const auto high = int32_t(std::nearbyint(v));
    // v * 256 is exact, so this is round(256 * (v - hi)); only a tie at ±128 is clamped, to keep
    // lo negatable (x86's sign trick for Q8_0).
    const int32_t low = std::clamp(int32_t(std::nearbyint(v * 256.0f)) - 256 * high, -127, 127);
    hi[j] = int8_t(high);
    lo[j] = int8_t(low);
    sum += 256 * high + low;
  }
}

void quantize_rows_ref(const float* x, int64_t n_rows, int64_t k, int32_t bias, const Int8Rows& out) {
  const int64_t blocks = k / 32;
  for (int64_t t = 0; t < n_rows; ++t) {
    for (int64_t b = 0; b < blocks; ++b) {
      float scale;
      int32_t sum;
      if (out.lo)
        quantize_block_split_ref(x + t * k + 32 * b, out.q + t * k + 32 * b, out.lo + t * k + 32 * b, scale, sum);
      else
        quantize_block_int8_ref(x + t * k + 32 * b, out.q + t * k + 32 * b, scale, sum);
      out.scale[t * blocks + b] = scale;
      // Wrapping arithmetic: a block of NaN or infinity (a hostile model) quantizes to codes whose
      // sum is garbage; the product must not overflow a signed int (undefined behaviour).
      out.offset[t * blocks + b] = int32_t(0u - uint32_t(bias) * uint32_t(sum));
      out.scaled_sum[t * blocks + b] = scale * float(sum);
    }
  }
}

float dot_int8_ref(TensorType type, const void* row, const Int8Rows& x, int64_t t) {
  switch (type) {
    case TensorType::Q4_0:
      return dot_q4_0_int8_ref(row, x, t);
    case TensorType::Q4_1:
      return dot_q4_1_int8_ref(row, x, t);
    case TensorType::Q8_0:
      return dot_q8_0_int8_ref(row, x, t);
    default:
      throw std::runtime_error("int8 activations apply to block types only, not " + std::string(type_name(type)));
  }
}

}  // namespace phirun
