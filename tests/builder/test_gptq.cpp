// GPTQ against plain block quantization on a layer with correlated inputs: the layer's output error
// E|(W - Ŵ) x|² must fall, and the factor it sweeps with must invert the activation matrix.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "models/builder/gptq.h"

namespace phirun {
namespace {

// Inputs with correlated channels and uneven scales, as activations are: x = A z, z ~ N(0, 1).
std::vector<float> inputs(int64_t n, int64_t cols, uint32_t seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> mix(static_cast<size_t>(cols * cols));
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      mix[size_t(i * cols + j)] = (i == j ? 1.0f : 0.3f * normal(random)) * (1.0f + 3.0f * float(i % 7 == 0));
  std::vector<float> x(static_cast<size_t>(n * cols));
  std::vector<float> z(static_cast<size_t>(cols));
  for (int64_t t = 0; t < n; ++t) {
    for (float& value : z) value = normal(random);
    for (int64_t i = 0; i < cols; ++i) {
      float sum = 0;
      for (int64_t j = 0; j < cols; ++j) sum += mix[size_t(i * cols + j)] * z[size_t(j)];
      x[size_t(t * cols + i)] = sum;
    }
  }
  return x;
}

std::vector<float> second_moment(const std::vector<float>& x, int64_t n, int64_t cols) {
  std::vector<float> h(static_cast<size_t>(cols * cols), 0.0f);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j)
        h[size_t(i * cols + j)] += x[size_t(t * cols + i)] * x[size_t(t * cols + j)] / float(n);
  return h;
}

// sum over inputs of |(W - Ŵ) x|², Ŵ decoded from `quantized`.
double output_error(TensorType type, const std::vector<float>& w, const std::vector<uint8_t>& quantized, int64_t rows,
                    int64_t cols, const std::vector<float>& x, int64_t n) {
  std::vector<float> decoded(w.size());
  type_traits(type).dequantize(quantized.data(), decoded.data(), int64_t(w.size()));
  double total = 0;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      double y = 0;
      for (int64_t j = 0; j < cols; ++j)
        y += double(w[size_t(r * cols + j)] - decoded[size_t(r * cols + j)]) * x[size_t(t * cols + j)];
      total += y * y;
    }
  return total;
}

TEST(Gptq, TheFactorInvertsTheActivationMatrix) {
  const int64_t cols = 40;
  const std::vector<float> x = inputs(400, cols, 3);
  const std::vector<float> h = second_moment(x, 400, cols);
  std::vector<double> u;
  ASSERT_TRUE(builder::inverse_cholesky_upper(h.data(), cols, 0.0, u));
  // Uᵀ U H = I (no dampening here), to the precision of float input.
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double value = 0;
      for (int64_t k = 0; k < cols; ++k) {
        double inverse_ik = 0;
        for (int64_t m = 0; m < cols; ++m) inverse_ik += u[size_t(m * cols + i)] * u[size_t(m * cols + k)];
        value += inverse_ik * h[size_t(k * cols + j)];
      }
      EXPECT_NEAR(value, i == j ? 1.0 : 0.0, 1e-6) << i << "," << j;
    }
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < i; ++j) EXPECT_EQ(u[size_t(i * cols + j)], 0.0);  // upper triangular
}

TEST(Gptq, LowersTheLayersOutputError) {
  const int64_t rows = 48, cols = 128, n = 512;
  const std::vector<float> x = inputs(n, cols, 7);
  const std::vector<float> h = second_moment(x, n, cols);
  std::mt19937 random(9);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& value : w) value = normal(random);
  std::vector<float> importance(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) importance[size_t(i)] = h[size_t(i * cols + i)];
  for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0}) {
    const uint64_t row_out = *row_bytes(type, cols);
    std::vector<uint8_t> weighted(row_out * rows), gptq(row_out * rows);
    for (int64_t r = 0; r < rows; ++r)
      quantize_row_search(type, w.data() + r * cols, importance.data(), weighted.data() + r * row_out, cols);
    std::vector<float> work = w;
    builder::quantize_gptq(type, work.data(), rows, cols, h.data(), gptq.data(), QuantSearch{});
    const double plain_error = output_error(type, w, weighted, rows, cols, x, n);
    const double gptq_error = output_error(type, w, gptq, rows, cols, x, n);
    std::printf("[ measured ] %s output error: importance-weighted %.4g, GPTQ %.4g (ratio %.3f)\n",
                std::string(type_name(type)).c_str(), plain_error, gptq_error, gptq_error / plain_error);
    EXPECT_LT(gptq_error, 0.8 * plain_error) << type_name(type);
  }
}

}  // namespace
}  // namespace phirun
