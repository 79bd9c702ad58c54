// RMSNorm, SwiGLU and GeGLU written once against a SIMD primitive set V (16 floats per vector), with a
// scalar tail. Internal linkage: see simd/avx512.h.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/gemm/prefetch.h"

namespace phirun {
namespace {

template <class V>
void rms_norm_row(const float* x, const float* weight, int64_t dim, float eps, float* out) {
  using F = typename V::F;
  F sums[2] = {V::zero(), V::zero()};  // two chains; float: a row is at most a few thousand values
  int64_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const F a = V::loadu(x + i), b = V::loadu(x + i + 16);
    sums[0] = V::fma(a, a, sums[0]);
    sums[1] = V::fma(b, b, sums[1]);
  }
  float sum = V::reduce_add(V::add(sums[0], sums[1]));
  for (int64_t j = i; j < dim; ++j) sum += x[j] * x[j];
  const float inverse = 1.0f / std::sqrt(sum / float(dim) + eps);
  const F scale = V::splatf(inverse);
  for (i = 0; i + 16 <= dim; i += 16) V::store(out + i, V::mul(V::mul(V::loadu(x + i), scale), V::loadu(weight + i)));
  for (; i < dim; ++i) out[i] = x[i] * inverse * weight[i];
}

// silu(g) * u = g * u / (1 + e^-g)
template <class V>
void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  using F = typename V::F;
  const F one = V::splatf(1.0f), minus_one = V::splatf(-1.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const F g = V::loadu(gate + i);
    const F denominator = V::add(one, V::exp(V::mul(g, minus_one)));
    V::store(out + i, V::div(V::mul(g, V::loadu(up + i)), denominator));
  }
  if (i < n) {  // the tail through the same vector code, so that no element's result depends on n
    alignas(64) float g[16] = {}, u[16] = {}, o[16];
    for (int64_t j = i; j < n; ++j) g[j - i] = gate[j], u[j - i] = up[j];
    const F gv = V::loadu(g);
    V::store(o, V::div(V::mul(gv, V::loadu(u)), V::add(one, V::exp(V::mul(gv, minus_one)))));
    for (int64_t j = i; j < n; ++j) out[j] = o[j - i];
  }
}

// gelu_tanh(g) * u, as g * u / (1 + e^-2z) with z = sqrt(2/pi) (g + 0.044715 g^3): the same value
// as g/2 (1 + tanh z) * u, since (1 + tanh z) / 2 = 1 / (1 + e^-2z), through the one exp SwiGLU
// uses (and without the cancellation of 1 + tanh z for negative g).
template <class V>
void geglu(const float* gate, const float* up, int64_t n, float* out) {
  using F = typename V::F;
  const F one = V::splatf(1.0f), cubic = V::splatf(0.044715f), minus_two_k = V::splatf(-2.0f * 0.7978845608028654f);
  auto compute = [&](F g, F u) {
    const F inner = V::mul(g, V::fma(V::mul(cubic, g), g, one));  // g + 0.044715 g^3
    return V::div(V::mul(g, u), V::add(one, V::exp(V::mul(minus_two_k, inner))));
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) V::store(out + i, compute(V::loadu(gate + i), V::loadu(up + i)));
  if (i < n) {  // the tail through the same vector code, so that no element's result depends on n
    alignas(64) float g[16] = {}, u[16] = {}, o[16];
    for (int64_t j = i; j < n; ++j) g[j - i] = gate[j], u[j - i] = up[j];
    V::store(o, compute(V::loadu(g), V::loadu(u)));
    for (int64_t j = i; j < n; ++j) out[j] = o[j - i];
  }
}

// The inner loop of the read-bandwidth probe (kernels/cpu/read_probe.h): the sum of n floats,
// streamed with the decode kernels' software prefetch and four chains of vector adds, so that the
// loop waits on memory, not on the adds. Sums of integers below 2^24 are exact in any order.
template <class V>
float stream_sum(const float* x, int64_t n) {
  using F = typename V::F;
  F sums[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    prefetch_ahead(reinterpret_cast<const uint8_t*>(x + i), 64 * sizeof(float));
    for (int c = 0; c < 4; ++c) sums[c] = V::add(sums[c], V::loadu(x + i + 16 * c));
  }
  float sum = V::reduce_add(V::add(V::add(sums[0], sums[1]), V::add(sums[2], sums[3])));
  for (; i < n; ++i) sum += x[i];
  return sum;
}

}  // namespace
}  // namespace phirun
