// IEEE half (F16) and bfloat16 (BF16) conversions, bit-exact and portable.
// F16 -> F32 is exact; F32 -> F16/BF16 rounds to nearest even, as numpy and ggml do.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace phirun {

inline float bits_to_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline uint32_t float_to_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float fp16_to_fp32(uint16_t half) {
  const uint32_t sign = uint32_t(half & 0x8000) << 16;
  const uint32_t exponent = (half >> 10) & 0x1f;
  const uint32_t mantissa = half & 0x3ff;
  if (exponent == 0x1f) {  // inf or NaN: keep the payload
    return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
  }
  if (exponent == 0) {
    if (mantissa == 0) return bits_to_float(sign);
    // Subnormal half: value = mantissa * 2^-24, exact in float.
    const float magnitude = float(mantissa) * 5.9604644775390625e-08f;
    return sign ? -magnitude : magnitude;
  }
  return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline uint16_t fp32_to_fp16(float value) {
  const uint32_t bits = float_to_bits(value);
  const uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // inf or NaN (NaN keeps a quiet payload bit)
    return uint16_t(sign | 0x7c00 | (magnitude > 0x7f800000u ? 0x200 : 0));
  }
  if (magnitude >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // rounds past 65504: inf
  if (magnitude < 0x38800000u) {
    // Result is subnormal (or zero) in half: round magnitude / 2^-24 to nearest even.
    const float scaled = bits_to_float(magnitude) * 16777216.0f;  // exact: power of two
    uint32_t integer = uint32_t(scaled);
    const float remainder = scaled - float(integer);
    if (remainder > 0.5f || (remainder == 0.5f && (integer & 1))) ++integer;
    return uint16_t(sign | integer);
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even.
  uint32_t rebased = magnitude - (112u << 23);
  rebased += 0xfff + ((rebased >> 13) & 1);
  return uint16_t(sign | (rebased >> 13));
}

// Converts a row of halves. With F16C (x86) eight at a time in hardware: the conversion is exact
// either way, so results do not depend on the path taken.
inline void fp16_to_fp32_row(const uint16_t* halves, float* out, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(halves + i))));
#endif
  for (; i < n; ++i) out[i] = fp16_to_fp32(halves[i]);
}

inline float bf16_to_fp32(uint16_t bf16) { return bits_to_float(uint32_t(bf16) << 16); }

inline uint16_t fp32_to_bf16(float value) {
  const uint32_t bits = float_to_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);  // quiet NaN
  return uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

}  // namespace phirun
