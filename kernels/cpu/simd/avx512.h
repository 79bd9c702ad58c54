// 16-lane SIMD primitives for the generic kernels, on AVX-512 (one register per vector). With
// kVnni, byte dot products are one vpdpbusd; without, vpmaddubsw + vpmaddwd.
// Everything here has internal linkage: each variant's file is compiled with its own flags and
// must not share an inline function with another.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace phirun {
namespace {

template <bool kVnni>
struct Avx512Simd {
  using I = __m512i;                   // 16 x int32 (or 64 bytes)
  using F = __m512;                    // 16 x float
  static constexpr int kInt8Tile = 4;  // activation rows per register tile, int8 kernels
  // Int8 kernels in prefill on pairs of panels: 2 panels x 3 rows (x 2 planes when split).
  static constexpr int kInt8PairTile = 3;
  static constexpr int kFloatTile = 8;  // activation rows per register tile, float kernels
  static constexpr int kBlockFloatTile = 4;  // block types with float activations
  // Float kernels on pairs of panels: 2 panels x 6 rows x 2 chains = 24 accumulators.
  static constexpr int kFloatPanels = 2;
  static constexpr int kFloatPairTile = 6;

  static I load(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static I low_nibbles(I v) { return _mm512_and_si512(v, _mm512_set1_epi8(0x0f)); }
  static I high_nibbles(I v) { return _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0f)); }
  template <int kByte>
  static I byte(I v) {  // byte kByte of each 32-bit lane, zero-extended
    if constexpr (kByte == 3) return _mm512_srli_epi32(v, 24);
    return _mm512_and_si512(_mm512_srli_epi32(v, 8 * kByte), _mm512_set1_epi32(0xff));
  }
  static I splat(int32_t v) { return _mm512_set1_epi32(v); }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I shift_left8(I v) { return _mm512_slli_epi32(v, 8); }
  static I broadcast4(const int8_t* x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm512_set1_epi32(v);
  }
  // acc + per lane sum of 4 products of unsigned weight bytes (< 128 unless kVnni) and x[0..3].
  static I dot4(I acc, I w, const int8_t* x) {
    if constexpr (kVnni) {
      return _mm512_dpbusd_epi32(acc, w, broadcast4(x));
    } else {
      const I pairs = _mm512_maddubs_epi16(w, broadcast4(x));
      return _mm512_add_epi32(acc, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)));
    }
  }
  // Q8_0 codes: VNNI takes them unsigned (q + 128, corrected by the bias); without VNNI the
  // 16-bit products would saturate, so the codes become signed and x takes their sign.
  static constexpr int32_t kQ8Bias = kVnni ? 128 : 0;
  static I q8_weights(I raw) {
    if constexpr (kVnni) return raw;
    return _mm512_xor_si512(raw, _mm512_set1_epi8(char(0x80)));
  }
  static I dot4_q8(I acc, I w, const int8_t* x) {
    if constexpr (kVnni) {
      return _mm512_dpbusd_epi32(acc, w, broadcast4(x));
    } else {
      const __mmask64 negative = _mm512_movepi8_mask(w);
      const I xs = _mm512_mask_sub_epi8(broadcast4(x), negative, _mm512_setzero_si512(), broadcast4(x));
      const I pairs = _mm512_maddubs_epi16(_mm512_abs_epi8(w), xs);
      return _mm512_add_epi32(acc, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)));
    }
  }

  static F zero() { return _mm512_setzero_ps(); }
  static F splatf(float v) { return _mm512_set1_ps(v); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F to_float(I v) { return _mm512_cvtepi32_ps(v); }
  static F load_f32(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static F load_f16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static F load_bf16(const uint8_t* p) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F loadu(const float* p) { return _mm512_loadu_ps(p); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static float reduce_add(F v) { return _mm512_reduce_add_ps(v); }
  // The 16 horizontal sums of v[0..15] as one vector (lane j: the sum of v[j]'s lanes): a tree of
  // 15 folds, each adding the two halves of every vector's partial sums while interleaving two
  // vectors, instead of 16 separate reductions (about 3 instructions per sum instead of 9).
  static F sum16(const F* v) {
    F a[8], b[4], c[2];
    for (int m = 0; m < 8; ++m) a[m] = fold<8>(v[2 * m], v[2 * m + 1]);
    for (int m = 0; m < 4; ++m) b[m] = fold<4>(a[2 * m], a[2 * m + 1]);
    for (int m = 0; m < 2; ++m) c[m] = fold<2>(b[2 * m], b[2 * m + 1]);
    return fold<1>(c[0], c[1]);
  }
  // x holds K vectors' partial sums in groups of 2g lanes, y the next K: the result holds the 2K
  // vectors' sums in groups of g lanes, in order (lane o: group o / g, half-sums o % g and + g).
  template <int g>
  static F fold(F x, F y) {
    alignas(64) static constexpr int32_t kFirst[16] = {
        (0 / g) * 2 * g + 0 % g,   (1 / g) * 2 * g + 1 % g,   (2 / g) * 2 * g + 2 % g,   (3 / g) * 2 * g + 3 % g,
        (4 / g) * 2 * g + 4 % g,   (5 / g) * 2 * g + 5 % g,   (6 / g) * 2 * g + 6 % g,   (7 / g) * 2 * g + 7 % g,
        (8 / g) * 2 * g + 8 % g,   (9 / g) * 2 * g + 9 % g,   (10 / g) * 2 * g + 10 % g, (11 / g) * 2 * g + 11 % g,
        (12 / g) * 2 * g + 12 % g, (13 / g) * 2 * g + 13 % g, (14 / g) * 2 * g + 14 % g, (15 / g) * 2 * g + 15 % g};
    const __m512i first = _mm512_load_si512(kFirst);
    const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(g));
    return _mm512_add_ps(_mm512_permutex2var_ps(x, first, y), _mm512_permutex2var_ps(x, second, y));
  }
  static float reduce_max(F v) { return _mm512_reduce_max_ps(v); }
  // e^x to about 1 ulp over [-87.3, 88.7] (0 below): x = n ln2 + r, |r| <= ln2/2, a degree-6
  // Taylor polynomial of e^r, then scaled by 2^n.
  static F exp(F x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
    const F n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT);
    F r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    F p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
  }

  // One block of 32 floats to int8, exactly as quantize_block_int8_ref.
  static void quantize_block(const float* x, int8_t* q, float& scale, int32_t& sum) {
    const F a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
    scale = amax / 127.0f;
    const F inverse = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    const I qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, inverse));  // round to nearest even
    const I qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, inverse));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(qa));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), _mm512_cvtepi32_epi8(qb));
    sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
  }

  // One block of 32 floats to split int8 planes, exactly as quantize_block_split_ref.
  static void quantize_block_split(const float* x, int8_t* hi, int8_t* lo, float& scale, int32_t& sum) {
    const F a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
    scale = amax / 127.0f * (1.0f / 256);
    const F inverse = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    const F va = _mm512_mul_ps(a, inverse), vb = _mm512_mul_ps(b, inverse);
    const I ha = _mm512_cvtps_epi32(va), hb = _mm512_cvtps_epi32(vb);
    const F k256 = _mm512_set1_ps(256.0f);
    const I low = _mm512_set1_epi32(-127), high = _mm512_set1_epi32(127);
    auto remainder = [&](F v, I h) {
      const I fine = _mm512_sub_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, k256)), _mm512_slli_epi32(h, 8));
      return _mm512_min_epi32(_mm512_max_epi32(fine, low), high);
    };
    const I la = remainder(va, ha), lb = remainder(vb, hb);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(hi), _mm512_cvtepi32_epi8(ha));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(hi + 16), _mm512_cvtepi32_epi8(hb));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lo), _mm512_cvtepi32_epi8(la));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lo + 16), _mm512_cvtepi32_epi8(lb));
    const I combined = _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(ha, hb), 8), _mm512_add_epi32(la, lb));
    sum = _mm512_reduce_add_epi32(combined);
  }
};

}  // namespace
}  // namespace phirun
