// The CPU ops against plain double-precision computations on random inputs of awkward sizes,
// RoPE's two pairings against each other under llama.cpp's Q/K row permutation, and results
// that do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/quant/half.h"

namespace phirun {
namespace {

std::vector<float> random_vector(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

struct PackedMatrix {
  std::vector<uint8_t> bytes;
  std::vector<float> dequantized;  // what the kernel should see
  MatrixView view;
};

PackedMatrix pack(TensorType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  PackedMatrix m;
  const std::vector<float> w = random_vector(rows * cols, rng, 0.5f);
  m.bytes.resize(size_t(rows * *row_bytes(type, cols)));
  m.dequantized.resize(w.size());
  const TypeTraits& traits = type_traits(type);
  traits.quantize(w.data(), m.bytes.data(), rows * cols);
  traits.dequantize(m.bytes.data(), m.dequantized.data(), rows * cols);
  m.view = {type, rows, cols, m.bytes.data()};
  return m;
}

class MatmulTest : public ::testing::TestWithParam<TensorType> {};

// Float sums of n products err by at most about n * 2^-24 of the sum of magnitudes.
TEST_P(MatmulTest, MatchesDoublePrecision) {
  const TensorType type = GetParam();
  const bool blocked = type_traits(type).block_elements > 1;
  std::mt19937 rng(42);
  ThreadPool pool(3);
  CpuOps ops(pool);
  for (int64_t rows : {1, 3, 17, 100}) {
    for (int64_t cols : blocked ? std::vector<int64_t>{32, 96, 576} : std::vector<int64_t>{1, 7, 33, 100}) {
      for (int64_t n_tokens : {1, 3, 17}) {
        const PackedMatrix m = pack(type, rows, cols, rng);
        const std::vector<float> x = random_vector(n_tokens * cols, rng);
        std::vector<float> y(size_t(n_tokens * rows));
        ops.matmul(m.view, x.data(), n_tokens, y.data());
        for (int64_t t = 0; t < n_tokens; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            double exact = 0, magnitude = 0;
            for (int64_t c = 0; c < cols; ++c) {
              const double product = double(m.dequantized[size_t(r * cols + c)]) * x[size_t(t * cols + c)];
              exact += product;
              magnitude += std::fabs(product);
            }
            ASSERT_NEAR(y[size_t(t * rows + r)], exact, double(cols) * 0x1p-24 * magnitude + 1e-12)
                << type_name(type) << " rows=" << rows << " cols=" << cols << " t=" << t << " r=" << r;
            // The kernel equals the scalar reference dot exactly: same operations, same order.
            const auto* row = m.bytes.data() + r * int64_t(*row_bytes(type, cols));
            ASSERT_EQ(y[size_t(t * rows + r)], type_traits(type).dot(row, x.data() + t * cols, cols));
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulTest,
                         ::testing::Values(TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0,
                                           TensorType::Q4_0, TensorType::Q4_1),
                         [](const auto& test_info) { return std::string(type_name(test_info.param)); });

TEST(CpuOps, MatmulIsIndependentOfThreadCount) {
  std::mt19937 rng(5);
  const PackedMatrix m = pack(TensorType::Q4_1, 67, 192, rng);
  const std::vector<float> x = random_vector(5 * 192, rng);
  std::vector<float> reference;
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    CpuOps ops(pool);
    std::vector<float> y(5 * 67);
    ops.matmul(m.view, x.data(), 5, y.data());
    if (reference.empty()) reference = y;
    EXPECT_EQ(y, reference) << threads << " threads";
  }
}

TEST(CpuOps, RmsNorm) {
  std::mt19937 rng(3);
  ThreadPool pool(1);
  CpuOps ops(pool);
  const int64_t dim = 67, rows = 3;
  const std::vector<float> x = random_vector(rows * dim, rng, 3.0f), w = random_vector(dim, rng);
  std::vector<float> out(size_t(rows * dim));
  ops.rms_norm(x.data(), w.data(), rows, dim, 1e-5f, out.data());
  for (int64_t t = 0; t < rows; ++t) {
    double sum = 0;
    for (int64_t i = 0; i < dim; ++i) sum += double(x[size_t(t * dim + i)]) * x[size_t(t * dim + i)];
    const double inverse = 1.0 / std::sqrt(sum / dim + 1e-5);
    for (int64_t i = 0; i < dim; ++i) {
      const double expected = x[size_t(t * dim + i)] * inverse * w[size_t(i)];
      EXPECT_NEAR(out[size_t(t * dim + i)], expected, 4e-7 * std::fabs(expected) + 1e-7);
    }
  }
}

// llama.cpp's converter reorders each head's Q/K rows so that row 2i is HF row i and row 2i+1 is
// HF row i + d/2. Rotating adjacent pairs of the reordered head must equal rotate_half of the
// original head, reordered the same way: the invariant that makes `llama` GGUFs correct.
TEST(CpuOps, RopeAdjacentOnPermutedRowsEqualsHalvesOnOriginal) {
  std::mt19937 rng(11);
  ThreadPool pool(1);
  CpuOps ops(pool);
  const int64_t head_dim = 64, n_heads = 3, n_rows = 4, start = 37;
  std::vector<float> original = random_vector(n_rows * n_heads * head_dim, rng);
  std::vector<float> permuted(original.size());
  for (int64_t row = 0; row < n_rows * n_heads; ++row)
    for (int64_t i = 0; i < head_dim / 2; ++i) {
      permuted[size_t(row * head_dim + 2 * i)] = original[size_t(row * head_dim + i)];
      permuted[size_t(row * head_dim + 2 * i + 1)] = original[size_t(row * head_dim + i + head_dim / 2)];
    }
  RopeParams halves{100000.0f, head_dim, RopePairing::Halves};
  RopeParams adjacent{100000.0f, head_dim, RopePairing::Adjacent};
  ops.rope(original.data(), n_rows, n_heads, head_dim, start, halves);
  ops.rope(permuted.data(), n_rows, n_heads, head_dim, start, adjacent);
  for (int64_t row = 0; row < n_rows * n_heads; ++row)
    for (int64_t i = 0; i < head_dim / 2; ++i) {
      EXPECT_EQ(permuted[size_t(row * head_dim + 2 * i)], original[size_t(row * head_dim + i)]);
      EXPECT_EQ(permuted[size_t(row * head_dim + 2 * i + 1)], original[size_t(row * head_dim + i + head_dim / 2)]);
    }
}

TEST(CpuOps, RopeRotatesByPositionTimesFrequency) {
  ThreadPool pool(1);
  CpuOps ops(pool);
  // One head of 8 dims, 6 rotary (partial): pair i turns by position * theta^(-2i/6).
  std::vector<float> head = {1, 0, 1, 0, 1, 0, 5, 6};
  const RopeParams params{10000.0f, 6, RopePairing::Adjacent};
  ops.rope(head.data(), 1, 1, 8, 3, params);
  for (int i = 0; i < 3; ++i) {
    const double angle = 3.0 * std::pow(10000.0, -2.0 * i / 6.0);
    EXPECT_NEAR(head[size_t(2 * i)], std::cos(angle), 1e-6);
    EXPECT_NEAR(head[size_t(2 * i + 1)], std::sin(angle), 1e-6);
  }
  EXPECT_EQ(head[6], 5.0f);  // past the rotary dims: unchanged
  EXPECT_EQ(head[7], 6.0f);
}

// Attention against a direct double-precision softmax over the cache, for both cache types and
// grouped-query heads (4 query heads share 2 KV heads), with a prompt chunk starting mid-cache.
TEST(CpuOps, AttentionMatchesDirectSoftmax) {
  std::mt19937 rng(9);
  ThreadPool pool(2);
  CpuOps ops(pool);
  const int64_t n_heads = 4, n_kv = 2, head_dim = 24, capacity = 40, start = 13, n_rows = 5;
  for (TensorType kv_type : {TensorType::F32, TensorType::F16}) {
    const size_t element = kv_type == TensorType::F32 ? 4 : 2;
    std::vector<uint8_t> keys(size_t(n_kv * capacity * head_dim) * element), values(keys.size());
    const KvLayerView cache{kv_type, n_kv, capacity, head_dim, keys.data(), values.data()};
    const std::vector<float> k = random_vector((start + n_rows) * n_kv * head_dim, rng);
    const std::vector<float> v = random_vector((start + n_rows) * n_kv * head_dim, rng);
    ops.store_kv(cache, k.data(), v.data(), start + n_rows, 0);
    const std::vector<float> q = random_vector(n_rows * n_heads * head_dim, rng);
    std::vector<float> out(q.size());
    const AttentionParams params{n_heads, head_dim, float(1 / std::sqrt(double(head_dim)))};
    ops.attention(q.data(), n_rows, start, cache, params, out.data());

    // What the cache holds (F16 rounds k and v), as the reference sees it.
    auto stored = [&](const std::vector<float>& source, size_t i) {
      return kv_type == TensorType::F32 ? double(source[i]) : double(fp16_to_fp32(fp32_to_fp16(source[i])));
    };
    for (int64_t t = 0; t < n_rows; ++t) {
      for (int64_t h = 0; h < n_heads; ++h) {
        const int64_t kv = h / (n_heads / n_kv), n_pos = start + t + 1;
        std::vector<double> weights(static_cast<size_t>(n_pos));
        double max_score = -1e300, total = 0;
        for (int64_t p = 0; p < n_pos; ++p) {
          double score = 0;
          for (int64_t d = 0; d < head_dim; ++d)
            score +=
                double(q[size_t((t * n_heads + h) * head_dim + d)]) * stored(k, size_t((p * n_kv + kv) * head_dim + d));
          weights[size_t(p)] = score * params.scale;
          max_score = std::max(max_score, weights[size_t(p)]);
        }
        for (double& w : weights) total += (w = std::exp(w - max_score));
        for (int64_t d = 0; d < head_dim; ++d) {
          double expected = 0;
          for (int64_t p = 0; p < n_pos; ++p)
            expected += weights[size_t(p)] / total * stored(v, size_t((p * n_kv + kv) * head_dim + d));
          ASSERT_NEAR(out[size_t((t * n_heads + h) * head_dim + d)], expected, 2e-5)
              << type_name(kv_type) << " t=" << t << " h=" << h << " d=" << d;
        }
      }
    }
  }
}

TEST(CpuOps, SwigluAndAdd) {
  ThreadPool pool(1);
  CpuOps ops(pool);
  const std::vector<float> gate = {-2.0f, 0.0f, 1.5f}, up = {3.0f, 4.0f, -1.0f};
  std::vector<float> out(3);
  ops.swiglu(gate.data(), up.data(), 3, out.data());
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(out[i], gate[i] / (1 + std::exp(-double(gate[i]))) * up[i], 1e-6);
  std::vector<float> x = {1, 2, 3};
  ops.add(x.data(), up.data(), 3);
  EXPECT_EQ(x, (std::vector<float>{4, 6, 2}));
}

// GeGLU against the tanh-approximated GELU in double, over 5000 values (past the size at which
// the pool splits the work, with an odd tail) in [-6, 6): float rounding of a few operations
// stays within 1e-5 relative to max(1, |result|).
TEST(CpuOps, GegluMatchesGeluTanhTimesUp) {
  ThreadPool pool(2);
  CpuOps ops(pool);
  const int64_t n = 5000;
  std::vector<float> gate(static_cast<size_t>(n)), up(static_cast<size_t>(n)), out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    gate[size_t(i)] = -6.0f + 12.0f * float(i) / float(n);
    up[size_t(i)] = 0.5f + float(i % 7) * 0.25f;
  }
  ops.geglu(gate.data(), up.data(), n, out.data());
  for (int64_t i = 0; i < n; ++i) {
    const double x = gate[size_t(i)];
    const double expected =
        0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))) * up[size_t(i)];
    ASSERT_NEAR(out[size_t(i)], expected, 1e-5 * std::max(1.0, std::fabs(expected))) << "at " << i;
  }
}

}  // namespace
}  // namespace phirun
