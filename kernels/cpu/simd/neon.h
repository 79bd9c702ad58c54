// 16-lane SIMD primitives for the generic kernels on AArch64 Advanced SIMD with the dot-product
// extension: each vector is four 128-bit registers; byte dot products are sdot (signed by
// signed, so Q8_0 codes are turned back into signed bytes and need no bias). Internal linkage:
// see avx512.h.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace phirun {
namespace {

struct NeonSimd {
  struct I {
    int32x4_t v[4];
  };
  struct F {
    float32x4_t v[4];
  };
  static constexpr int kInt8Tile = 2;
  static constexpr int kInt8PairTile = 0;  // no panel pairs in int8 kernels
  static constexpr int kFloatTile = 1;
  static constexpr int kBlockFloatTile = 1;  // block types with float activations
  static constexpr int kFloatPanels = 1;  // panels per register tile, float kernels
  static constexpr int kFloatPairTile = 1;

  template <class Op>
  static I map(I a, Op op) {
    return {{op(a.v[0]), op(a.v[1]), op(a.v[2]), op(a.v[3])}};
  }
  template <class Op>
  static F mapf(F a, F b, Op op) {
    return {{op(a.v[0], b.v[0]), op(a.v[1], b.v[1]), op(a.v[2], b.v[2]), op(a.v[3], b.v[3])}};
  }

  static I load(const uint8_t* p) {
    return {{vreinterpretq_s32_u8(vld1q_u8(p)), vreinterpretq_s32_u8(vld1q_u8(p + 16)),
             vreinterpretq_s32_u8(vld1q_u8(p + 32)), vreinterpretq_s32_u8(vld1q_u8(p + 48))}};
  }
  static I low_nibbles(I v) {
    return map(v,
               [](int32x4_t x) { return vreinterpretq_s32_u8(vandq_u8(vreinterpretq_u8_s32(x), vdupq_n_u8(0x0f))); });
  }
  static I high_nibbles(I v) {
    return map(v, [](int32x4_t x) { return vreinterpretq_s32_u8(vshrq_n_u8(vreinterpretq_u8_s32(x), 4)); });
  }
  template <int kByte>
  static I byte(I v) {
    return map(v, [](int32x4_t x) {
      const uint32x4_t u = vreinterpretq_u32_s32(x);
      if constexpr (kByte == 0) return vreinterpretq_s32_u32(vandq_u32(u, vdupq_n_u32(0xff)));
      if constexpr (kByte == 3) return vreinterpretq_s32_u32(vshrq_n_u32(u, 24));
      if constexpr (kByte == 1 || kByte == 2)
        return vreinterpretq_s32_u32(vandq_u32(vshrq_n_u32(u, kByte == 1 ? 8 : 16), vdupq_n_u32(0xff)));
    });
  }
  static I splat(int32_t v) { return {{vdupq_n_s32(v), vdupq_n_s32(v), vdupq_n_s32(v), vdupq_n_s32(v)}}; }
  static I add(I a, I b) {
    return {
        {vaddq_s32(a.v[0], b.v[0]), vaddq_s32(a.v[1], b.v[1]), vaddq_s32(a.v[2], b.v[2]), vaddq_s32(a.v[3], b.v[3])}};
  }
  static I shift_left8(I v) {
    return map(v, [](int32x4_t x) { return vshlq_n_s32(x, 8); });
  }
  static I dot4(I acc, I w, const int8_t* x) {
    int32_t four;
    std::memcpy(&four, x, 4);
    const int8x16_t xv = vreinterpretq_s8_s32(vdupq_n_s32(four));
    for (int i = 0; i < 4; ++i) acc.v[i] = vdotq_s32(acc.v[i], vreinterpretq_s8_s32(w.v[i]), xv);
    return acc;
  }
  static constexpr int32_t kQ8Bias = 0;
  static I q8_weights(I raw) {
    return map(raw,
               [](int32x4_t x) { return vreinterpretq_s32_u8(veorq_u8(vreinterpretq_u8_s32(x), vdupq_n_u8(0x80))); });
  }
  static I dot4_q8(I acc, I w, const int8_t* x) { return dot4(acc, w, x); }

  static F zero() { return splatf(0.0f); }
  static F splatf(float v) { return {{vdupq_n_f32(v), vdupq_n_f32(v), vdupq_n_f32(v), vdupq_n_f32(v)}}; }
  static F fma(F a, F b, F c) {
    for (int i = 0; i < 4; ++i) c.v[i] = vfmaq_f32(c.v[i], a.v[i], b.v[i]);
    return c;
  }
  static F mul(F a, F b) {
    return mapf(a, b, [](float32x4_t x, float32x4_t y) { return vmulq_f32(x, y); });
  }
  static F add(F a, F b) {
    return mapf(a, b, [](float32x4_t x, float32x4_t y) { return vaddq_f32(x, y); });
  }
  static F max(F a, F b) {
    return mapf(a, b, [](float32x4_t x, float32x4_t y) { return vmaxq_f32(x, y); });
  }
  static F div(F a, F b) {
    return mapf(a, b, [](float32x4_t x, float32x4_t y) { return vdivq_f32(x, y); });
  }
  static F to_float(I v) {
    return {{vcvtq_f32_s32(v.v[0]), vcvtq_f32_s32(v.v[1]), vcvtq_f32_s32(v.v[2]), vcvtq_f32_s32(v.v[3])}};
  }
  static F loadu(const float* p) { return {{vld1q_f32(p), vld1q_f32(p + 4), vld1q_f32(p + 8), vld1q_f32(p + 12)}}; }
  static F load_f32(const uint8_t* p) { return loadu(reinterpret_cast<const float*>(p)); }
  static F load_f16(const uint8_t* p) {
    F out;
    for (int i = 0; i < 4; ++i) {
      uint16_t halves[4];
      std::memcpy(halves, p + 8 * i, 8);
      out.v[i] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(halves)));
    }
    return out;
  }
  static F load_bf16(const uint8_t* p) {
    F out;
    for (int i = 0; i < 4; ++i) {
      uint16_t halves[4];
      std::memcpy(halves, p + 8 * i, 8);
      out.v[i] = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(halves), 16));
    }
    return out;
  }
  static void store(float* p, F v) {
    for (int i = 0; i < 4; ++i) vst1q_f32(p + 4 * i, v.v[i]);
  }
  static float reduce_add(F v) { return vaddvq_f32(vaddq_f32(vaddq_f32(v.v[0], v.v[1]), vaddq_f32(v.v[2], v.v[3]))); }
  static float reduce_max(F v) { return vmaxvq_f32(vmaxq_f32(vmaxq_f32(v.v[0], v.v[1]), vmaxq_f32(v.v[2], v.v[3]))); }

  static float32x4_t exp4(float32x4_t x) {  // as Avx512Simd::exp
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.7f));
    const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504f)));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145751953125f));
    r = vfmsq_f32(r, n, vdupq_n_f32(1.428606765330187e-06f));
    float32x4_t p = vdupq_n_f32(1.0f / 720);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 120), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 24), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 6), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    const int32x4_t ni = vcvtq_s32_f32(n);
    const int32x4_t half = vshrq_n_s32(ni, 1);
    const float32x4_t a = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(half, vdupq_n_s32(127)), 23));
    const float32x4_t b = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(ni, half), vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, a), b);
  }
  static F exp(F x) { return {{exp4(x.v[0]), exp4(x.v[1]), exp4(x.v[2]), exp4(x.v[3])}}; }

  static void quantize_block(const float* x, int8_t* q, float& scale, int32_t& sum) {
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int i = 0; i < 8; ++i) {
      v[i] = vld1q_f32(x + 4 * i);
      m = vmaxq_f32(m, vabsq_f32(v[i]));
    }
    const float amax = vmaxvq_f32(m);
    scale = amax / 127.0f;
    const float32x4_t inverse = vdupq_n_f32(amax != 0.0f ? 127.0f / amax : 0.0f);
    int32x4_t total = vdupq_n_s32(0);
    for (int i = 0; i < 8; ++i) {
      const int32x4_t qi = vcvtnq_s32_f32(vmulq_f32(v[i], inverse));  // round to nearest even
      total = vaddq_s32(total, qi);
      int32_t lanes[4];
      vst1q_s32(lanes, qi);
      for (int j = 0; j < 4; ++j) q[4 * i + j] = int8_t(lanes[j]);
    }
    sum = vaddvq_s32(total);
  }

  // One block of 32 floats to split int8 planes, exactly as quantize_block_split_ref.
  static void quantize_block_split(const float* x, int8_t* hi, int8_t* lo, float& scale, int32_t& sum) {
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int i = 0; i < 8; ++i) {
      v[i] = vld1q_f32(x + 4 * i);
      m = vmaxq_f32(m, vabsq_f32(v[i]));
    }
    const float amax = vmaxvq_f32(m);
    scale = amax / 127.0f * (1.0f / 256);
    const float32x4_t inverse = vdupq_n_f32(amax != 0.0f ? 127.0f / amax : 0.0f);
    int32x4_t total = vdupq_n_s32(0);
    for (int i = 0; i < 8; ++i) {
      const float32x4_t scaled = vmulq_f32(v[i], inverse);
      const int32x4_t h = vcvtnq_s32_f32(scaled);
      const int32x4_t fine = vsubq_s32(vcvtnq_s32_f32(vmulq_n_f32(scaled, 256.0f)), vshlq_n_s32(h, 8));
      const int32x4_t l = vminq_s32(vmaxq_s32(fine, vdupq_n_s32(-127)), vdupq_n_s32(127));
      total = vaddq_s32(total, vaddq_s32(vshlq_n_s32(h, 8), l));
      int32_t highs[4], lows[4];
      vst1q_s32(highs, h);
      vst1q_s32(lows, l);
      for (int j = 0; j < 4; ++j) {
        hi[4 * i + j] = int8_t(highs[j]);
        lo[4 * i + j] = int8_t(lows[j]);
      }
    }
    sum = vaddvq_s32(total);
  }
};

}  // namespace
}  // namespace phirun
