// Every SIMD variant's fused attention, RMSNorm, SwiGLU and GeGLU against the scalar references, on
// random inputs of awkward sizes: contexts that end inside a 64-position chunk or exactly on one,
// several query rows, grouped-query heads, head sizes 64, 96 and 128.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/read_probe.h"
#include "kernels/quant/half.h"

namespace phirun {
namespace {

std::vector<float> random_vector(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

// Makes `isa` active for the lifetime of this object (CpuOps picks its kernels when built).
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa) : previous_(active_isa()) { force_isa(isa); }
  ~ScopedIsa() { force_isa(previous_); }

 private:
  Isa previous_;
};

std::vector<Isa> simd_isas() {
  std::vector<Isa> isas;
  for (Isa isa : supported_isas())
    if (op_kernels(isa)) isas.push_back(isa);
  return isas;
}

class OpVariantTest : public ::testing::TestWithParam<Isa> {};

// Softmax weights carry the polynomial exp's relative error (a few 2^-24) and float sums over
// at most a few hundred positions: the output, a weighted mean of values, is within
// 2^-24 · (positions + 64) of the largest |value|.
TEST_P(OpVariantTest, FusedAttentionMatchesReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(17);
  ThreadPool pool(2);
  for (int64_t head_dim : {64, 96, 128}) {
    for (int64_t start : {0, 5, 63, 100}) {
      for (int64_t n_rows : {1, 3, 17}) {
        const int64_t n_heads = 6, n_kv = 2, capacity = start + n_rows + 3;
        std::vector<uint16_t> keys(size_t(n_kv * capacity * head_dim)), values(keys.size());
        const std::vector<float> k = random_vector(int64_t(keys.size()), rng, 2.0f);
        const std::vector<float> v = random_vector(int64_t(keys.size()), rng);
        for (size_t i = 0; i < keys.size(); ++i) {
          keys[i] = fp32_to_fp16(k[i]);
          values[i] = fp32_to_fp16(v[i]);
        }
        const KvLayerView cache{TensorType::F16, n_kv, capacity, head_dim, keys.data(), values.data()};
        const AttentionParams params{n_heads, head_dim, float(1.0 / std::sqrt(double(head_dim)))};
        const std::vector<float> q = random_vector(n_rows * n_heads * head_dim, rng);
        std::vector<float> expected(q.size()), actual(q.size());
        {
          ScopedIsa scalar(Isa::Scalar);
          CpuOps(pool).attention(q.data(), n_rows, start, cache, params, expected.data());
        }
        ASSERT_TRUE(op_kernels(isa)->attention(q.data(), start, cache, params, actual.data(), 0, n_rows * n_heads));
        float largest = 0;
        for (float x : v) largest = std::max(largest, std::fabs(fp16_to_fp32(fp32_to_fp16(x))));
        const double tolerance = double(start + n_rows + 64) * 0x1p-24 * largest;
        for (size_t i = 0; i < q.size(); ++i)
          ASSERT_NEAR(actual[i], expected[i], tolerance)
              << "head_dim " << head_dim << " start " << start << " rows " << n_rows << " at " << i;
      }
    }
  }
  // Shapes it does not handle are declined, not miscomputed.
  const KvLayerView f32_cache{TensorType::F32, 1, 4, 64, nullptr, nullptr};
  EXPECT_FALSE(op_kernels(isa)->attention(nullptr, 0, f32_cache, {1, 64, 1.0f}, nullptr, 0, 1));
}

// Sliding-window attention over a ring (position p in row p % capacity, the smallest ring a pass
// of n_rows needs: window + n_rows - 1) against the scalar reference over a cache holding every
// position with the same window. Same tolerance as above, with the window's positions.
TEST_P(OpVariantTest, WindowedRingAttentionMatchesFullCacheReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(23);
  ThreadPool pool(2);
  const int64_t head_dim = 96, n_heads = 4, n_kv = 2;
  for (int64_t window : {7, 70}) {
    for (int64_t start : {0, 5, 90, 200}) {
      for (int64_t n_rows : {1, 17}) {
        const int64_t positions = start + n_rows, ring = window + n_rows - 1;
        const std::vector<float> k = random_vector(n_kv * positions * head_dim, rng, 2.0f);
        const std::vector<float> v = random_vector(n_kv * positions * head_dim, rng);
        std::vector<uint16_t> full_keys(k.size()), full_values(k.size());
        std::vector<uint16_t> ring_keys(size_t(n_kv * ring * head_dim)), ring_values(ring_keys.size());
        for (int64_t h = 0; h < n_kv; ++h)
          for (int64_t p = 0; p < positions; ++p)  // in position order: the ring keeps the last
            for (int64_t d = 0; d < head_dim; ++d) {
              const size_t source = size_t((h * positions + p) * head_dim + d);
              const size_t target = size_t((h * ring + p % ring) * head_dim + d);
              full_keys[source] = ring_keys[target] = fp32_to_fp16(k[source]);
              full_values[source] = ring_values[target] = fp32_to_fp16(v[source]);
            }
        const KvLayerView full{TensorType::F16, n_kv, positions, head_dim, full_keys.data(), full_values.data()};
        const KvLayerView ringed{TensorType::F16, n_kv, ring, head_dim, ring_keys.data(), ring_values.data()};
        const AttentionParams params{n_heads, head_dim, float(1.0 / std::sqrt(double(head_dim))), window};
        const std::vector<float> q = random_vector(n_rows * n_heads * head_dim, rng);
        std::vector<float> expected(q.size()), scalar_ring(q.size()), actual(q.size());
        {
          ScopedIsa scalar(Isa::Scalar);
          CpuOps(pool).attention(q.data(), n_rows, start, full, params, expected.data());
          CpuOps(pool).attention(q.data(), n_rows, start, ringed, params, scalar_ring.data());
        }
        ASSERT_TRUE(op_kernels(isa)->attention(q.data(), start, ringed, params, actual.data(), 0, n_rows * n_heads));
        float largest = 0;
        for (float x : v) largest = std::max(largest, std::fabs(fp16_to_fp32(fp32_to_fp16(x))));
        const double tolerance = double(window + 64) * 0x1p-24 * largest;
        for (size_t i = 0; i < q.size(); ++i) {
          ASSERT_NEAR(scalar_ring[i], expected[i], tolerance)
              << "window " << window << " start " << start << " at " << i;
          ASSERT_NEAR(actual[i], expected[i], tolerance) << "window " << window << " start " << start << " at " << i;
        }
      }
    }
  }
}

// RMSNorm: the sum of squares in float over `dim` values errs by dim · 2^-24 relatively; the
// square root halves it.
TEST_P(OpVariantTest, RmsNormMatchesReference) {
  std::mt19937 rng(19);
  ThreadPool pool(1);
  for (int64_t dim : {1, 15, 17, 33, 576, 3072}) {
    const std::vector<float> x = random_vector(dim, rng, 3.0f), weight = random_vector(dim, rng);
    std::vector<float> expected(x.size()), actual(x.size());
    {
      ScopedIsa scalar(Isa::Scalar);
      CpuOps(pool).rms_norm(x.data(), weight.data(), 1, dim, 1e-5f, expected.data());
    }
    op_kernels(GetParam())->rms_norm(x.data(), weight.data(), dim, 1e-5f, actual.data());
    for (int64_t i = 0; i < dim; ++i)
      ASSERT_NEAR(actual[size_t(i)], expected[size_t(i)], double(dim + 8) * 0x1p-24 * std::fabs(expected[size_t(i)]))
          << "dim " << dim << " at " << i;
  }
}

// SwiGLU: the polynomial exp is within a few 2^-24 relatively of std::exp, the division and
// products add a few more roundings: 16 · 2^-24 relative.
TEST_P(OpVariantTest, SwigluMatchesReference) {
  std::mt19937 rng(23);
  ThreadPool pool(1);
  for (int64_t n : {1, 15, 16, 17, 100, 1536}) {
    std::vector<float> gate = random_vector(n, rng, 4.0f), up = random_vector(n, rng);
    if (n == 100) gate[3] = -100.0f, gate[4] = 90.0f;  // far tails: e^-g overflows or vanishes
    std::vector<float> expected(static_cast<size_t>(n)), actual(static_cast<size_t>(n));
    {
      ScopedIsa scalar(Isa::Scalar);
      CpuOps(pool).swiglu(gate.data(), up.data(), n, expected.data());
    }
    op_kernels(GetParam())->swiglu(gate.data(), up.data(), n, actual.data());
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(actual[size_t(i)], expected[size_t(i)], 16 * 0x1p-24 * std::fabs(expected[size_t(i)]) + 1e-30)
          << "n " << n << " at " << i << " gate " << gate[size_t(i)];
  }
}

// GeGLU: the variants compute g u / (1 + e^-2z), the scalar reference g/2 (1 + tanh z) u as torch
// does. Tolerance: the exp form's few roundings (16 · 2^-24 relative, as SwiGLU), plus the
// reference's own error: tanh z rounded to float carries up to 2^-24 absolute error below 1, which
// 1 + tanh z turns into 2^-24 · |g u| / 2 absolute for negative g (where 1 + tanh z is tiny).
TEST_P(OpVariantTest, GegluMatchesReference) {
  std::mt19937 rng(29);
  ThreadPool pool(1);
  for (int64_t n : {1, 15, 16, 17, 100, 1536, 5000}) {
    std::vector<float> gate = random_vector(n, rng, 3.0f), up = random_vector(n, rng);
    if (n == 100) gate[3] = -100.0f, gate[4] = 90.0f, gate[5] = -1e20f, gate[6] = 1e20f;  // exp over/underflows
    std::vector<float> expected(static_cast<size_t>(n)), actual(static_cast<size_t>(n));
    {
      ScopedIsa scalar(Isa::Scalar);
      CpuOps(pool).geglu(gate.data(), up.data(), n, expected.data());
    }
    op_kernels(GetParam())->geglu(gate.data(), up.data(), n, actual.data());
    for (int64_t i = 0; i < n; ++i) {
      const double g = gate[size_t(i)], u = up[size_t(i)];
      const double tolerance = 16 * 0x1p-24 * std::fabs(expected[size_t(i)]) + 0x1p-25 * std::fabs(g * u) + 1e-30;
      ASSERT_NEAR(actual[size_t(i)], expected[size_t(i)], tolerance) << "n " << n << " at " << i << " gate " << g;
    }
  }
}

// The read-bandwidth probe's stream: small integers, so every sum is exact in any order and the
// variant must equal the reference exactly, at lengths around its 64-float step.
TEST_P(OpVariantTest, StreamSumMatchesReference) {
  const OpKernels* kernels = op_kernels(GetParam());
  ASSERT_NE(kernels->stream_sum, nullptr);
  std::mt19937 rng(23);
  std::vector<float> x(5000);
  for (float& v : x) v = float(rng() % 4);
  for (int64_t n : {0, 1, 15, 16, 63, 64, 65, 127, 1000, 4097, 5000}) {
    const float expected = stream_sum_ref(x.data(), n);
    EXPECT_EQ(kernels->stream_sum(x.data(), n), expected) << n;
    if (n == 5000) {
      EXPECT_GT(expected, 5000.0f);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, OpVariantTest, ::testing::ValuesIn(simd_isas()),
                         [](const ::testing::TestParamInfo<Isa>& param) { return std::string(isa_name(param.param)); });

}  // namespace
}  // namespace phirun
