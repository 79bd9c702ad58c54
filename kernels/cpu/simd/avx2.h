// 16-lane SIMD primitives for the generic kernels on AVX2 + FMA + F16C: each vector is a pair of
// 256-bit registers. Byte dot products go through vpmaddubsw + vpmaddwd. Internal linkage: see
// avx512.h.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace phirun {
namespace {

struct Avx2Simd {
  struct I {
    __m256i lo, hi;
  };
  struct F {
    __m256 lo, hi;
  };
  // Only 16 registers: smaller tiles than AVX-512.
  static constexpr int kInt8Tile = 2;
  static constexpr int kInt8PairTile = 0;  // no panel pairs in int8 kernels
  // Float kernels: 3 rows x 2 chains x 2 halves = 12 accumulators.
  static constexpr int kFloatTile = 3;
  static constexpr int kBlockFloatTile = 1;  // block types with float activations
  static constexpr int kFloatPanels = 1;  // panels per register tile, float kernels
  static constexpr int kFloatPairTile = 1;

  static I load(const uint8_t* p) {
    return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32))};
  }
  static I low_nibbles(I v) {
    const __m256i mask = _mm256_set1_epi8(0x0f);
    return {_mm256_and_si256(v.lo, mask), _mm256_and_si256(v.hi, mask)};
  }
  static I high_nibbles(I v) {
    const __m256i mask = _mm256_set1_epi8(0x0f);
    return {_mm256_and_si256(_mm256_srli_epi16(v.lo, 4), mask), _mm256_and_si256(_mm256_srli_epi16(v.hi, 4), mask)};
  }
  template <int kByte>
  static I byte(I v) {
    if constexpr (kByte == 3) return {_mm256_srli_epi32(v.lo, 24), _mm256_srli_epi32(v.hi, 24)};
    const __m256i mask = _mm256_set1_epi32(0xff);
    return {_mm256_and_si256(_mm256_srli_epi32(v.lo, 8 * kByte), mask),
            _mm256_and_si256(_mm256_srli_epi32(v.hi, 8 * kByte), mask)};
  }
  static I splat(int32_t v) { return {_mm256_set1_epi32(v), _mm256_set1_epi32(v)}; }
  static I add(I a, I b) { return {_mm256_add_epi32(a.lo, b.lo), _mm256_add_epi32(a.hi, b.hi)}; }
  static I shift_left8(I v) { return {_mm256_slli_epi32(v.lo, 8), _mm256_slli_epi32(v.hi, 8)}; }
  static __m256i broadcast4(const int8_t* x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm256_set1_epi32(v);
  }
  static I dot4(I acc, I w, const int8_t* x) {
    const __m256i xv = broadcast4(x), ones = _mm256_set1_epi16(1);
    return {_mm256_add_epi32(acc.lo, _mm256_madd_epi16(_mm256_maddubs_epi16(w.lo, xv), ones)),
            _mm256_add_epi32(acc.hi, _mm256_madd_epi16(_mm256_maddubs_epi16(w.hi, xv), ones))};
  }
  static constexpr int32_t kQ8Bias = 0;
  static I q8_weights(I raw) {
    const __m256i flip = _mm256_set1_epi8(char(0x80));
    return {_mm256_xor_si256(raw.lo, flip), _mm256_xor_si256(raw.hi, flip)};
  }
  static I dot4_q8(I acc, I w, const int8_t* x) {  // signed codes: |w| times x with w's sign
    const __m256i xv = broadcast4(x), ones = _mm256_set1_epi16(1);
    const __m256i lo = _mm256_maddubs_epi16(_mm256_sign_epi8(w.lo, w.lo), _mm256_sign_epi8(xv, w.lo));
    const __m256i hi = _mm256_maddubs_epi16(_mm256_sign_epi8(w.hi, w.hi), _mm256_sign_epi8(xv, w.hi));
    return {_mm256_add_epi32(acc.lo, _mm256_madd_epi16(lo, ones)),
            _mm256_add_epi32(acc.hi, _mm256_madd_epi16(hi, ones))};
  }

  static F zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static F splatf(float v) { return {_mm256_set1_ps(v), _mm256_set1_ps(v)}; }
  static F fma(F a, F b, F c) { return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; }
  static F mul(F a, F b) { return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
  static F add(F a, F b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
  static F to_float(I v) { return {_mm256_cvtepi32_ps(v.lo), _mm256_cvtepi32_ps(v.hi)}; }
  static F load_f32(const uint8_t* p) {
    return {_mm256_loadu_ps(reinterpret_cast<const float*>(p)), _mm256_loadu_ps(reinterpret_cast<const float*>(p) + 8)};
  }
  static F load_f16(const uint8_t* p) {
    return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)))};
  }
  static F load_bf16(const uint8_t* p) {
    const __m256i lo = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i hi = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(lo, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(hi, 16))};
  }
  static void store(float* p, F v) {
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
  }

  static F loadu(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static F max(F a, F b) { return {_mm256_max_ps(a.lo, b.lo), _mm256_max_ps(a.hi, b.hi)}; }
  static F div(F a, F b) { return {_mm256_div_ps(a.lo, b.lo), _mm256_div_ps(a.hi, b.hi)}; }
  static float reduce_add(F v) {
    const __m256 s = _mm256_add_ps(v.lo, v.hi);
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
  }
  static float reduce_max(F v) {
    const __m256 s = _mm256_max_ps(v.lo, v.hi);
    __m128 q = _mm_max_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    q = _mm_max_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_max_ss(q, _mm_movehdup_ps(q)));
  }
  // e^x as Avx512Simd::exp, the scaling by 2^n done on the exponent bits.
  static __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
    const __m256 n =
        _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    // 2^n for n in [-126, 128]: split in two factors so that n = -126 - 1 and n = 128 stay finite
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256 a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    const __m256 b = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, a), b);
  }
  static F exp(F x) { return {exp8(x.lo), exp8(x.hi)}; }

  static void quantize_block(const float* x, int8_t* q, float& scale, int32_t& sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4], m = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    scale = amax / 127.0f;
    const __m256 inverse = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    __m256i total = _mm256_setzero_si256();
    alignas(32) int32_t values[32];
    for (int i = 0; i < 4; ++i) {
      const __m256i qi = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], inverse));
      total = _mm256_add_epi32(total, qi);
      _mm256_store_si256(reinterpret_cast<__m256i*>(values + 8 * i), qi);
    }
    for (int i = 0; i < 32; ++i) q[i] = int8_t(values[i]);
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), total);
    sum = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
  }

  // One block of 32 floats to split int8 planes, exactly as quantize_block_split_ref.
  static void quantize_block_split(const float* x, int8_t* hi, int8_t* lo, float& scale, int32_t& sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4], m = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    scale = amax / 127.0f * (1.0f / 256);
    const __m256 inverse = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    const __m256 k256 = _mm256_set1_ps(256.0f);
    const __m256i low = _mm256_set1_epi32(-127), high = _mm256_set1_epi32(127);
    __m256i total = _mm256_setzero_si256();
    alignas(32) int32_t highs[32], lows[32];
    for (int i = 0; i < 4; ++i) {
      const __m256 scaled = _mm256_mul_ps(v[i], inverse);
      const __m256i h = _mm256_cvtps_epi32(scaled);
      const __m256i fine = _mm256_sub_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(scaled, k256)), _mm256_slli_epi32(h, 8));
      const __m256i l = _mm256_min_epi32(_mm256_max_epi32(fine, low), high);
      total = _mm256_add_epi32(total, _mm256_add_epi32(_mm256_slli_epi32(h, 8), l));
      _mm256_store_si256(reinterpret_cast<__m256i*>(highs + 8 * i), h);
      _mm256_store_si256(reinterpret_cast<__m256i*>(lows + 8 * i), l);
    }
    for (int i = 0; i < 32; ++i) {
      hi[i] = int8_t(highs[i]);
      lo[i] = int8_t(lows[i]);
    }
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), total);
    sum = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
  }
};

}  // namespace
}  // namespace phirun
