// GEMV (decode), dequantization to F16 and the cuBLAS GEMM (prefill) against the CPU scalar
// matmul, for every weight type on awkward sizes: K not a multiple of 256 (nor of 8 for the float
// types, which takes the element-wise path), 1, 3, 17 and 70 output rows.
#include <cmath>

#include "kernels/cuda/cuda_kernels.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"
#include "tests/cuda/cuda_test.h"

namespace phirun {
namespace {

constexpr TensorType kTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                                 TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1};

std::vector<int64_t> test_cols(TensorType type) {
  if (type == TensorType::Q8_0 || type == TensorType::Q4_0 || type == TensorType::Q4_1) return {32, 224, 1184, 4128};
  return {7, 224, 1001, 4104};
}

// Σ_j (|w_j| + |m_j|) |x_j| over one row, in double: the magnitude that rounding errors of a
// dot product scale with. m_j is Q4_1's block offset (w = d q + m is summed as d Σ q x + m Σ x,
// whose rounding errors scale with |d q| + |m|, bounded by |w| + 2|m|); 0 for the other types.
double dot_magnitude(TensorType type, const uint8_t* row, const float* x, int64_t cols) {
  std::vector<float> w(static_cast<size_t>(cols));
  type_traits(type).dequantize(row, w.data(), cols);
  double total = 0.0;
  for (int64_t j = 0; j < cols; ++j) {
    double offset = 0.0;
    if (type == TensorType::Q4_1)
      offset = 2.0 * std::fabs(fp16_to_fp32(reinterpret_cast<const block_q4_1*>(row)[j / 32].m));
    total += (std::fabs(w[size_t(j)]) + offset) * std::fabs(x[j]);
  }
  return total;
}

int64_t row_bytes_of(TensorType type, int64_t cols) {
  const TypeTraits& traits = type_traits(type);
  return cols / traits.block_elements * traits.block_bytes;
}

using CudaMatmul = CudaTest;

// Tolerance: float sums of K products err by at most about K·2^-24 of Σ|w x| (the classical
// bound γ_K, however the terms are ordered); the GPU and the CPU reference each carry one such
// error, hence 2 (K + 16) 2^-24 Σ(|w| + |m|)|x|. A wrong code, scale or nibble order moves the
// result by a sizeable fraction of Σ|w x| / sqrt(K): far outside this bound.
TEST_F(CudaMatmul, GemvMatchesScalarReference) {
  ScalarReference reference;
  std::mt19937 rng(3);
  for (TensorType type : kTypes) {
    for (int64_t cols : test_cols(type)) {
      for (int64_t rows : {1, 3, 17, 70}) {
        SCOPED_TRACE(type_label(type) + " rows " + std::to_string(rows) + " cols " + std::to_string(cols));
        const std::vector<uint8_t> weights = random_matrix(type, rows, cols, rng);
        const std::vector<float> x = random_floats(cols, rng);
        std::vector<float> expected(static_cast<size_t>(rows));
        reference.ops().matmul({type, rows, cols, weights.data()}, x.data(), 1, expected.data());

        const DeviceBuffer device_weights = to_device(weights), device_x = to_device(x);
        DeviceBuffer device_y(size_t(rows) * sizeof(float));
        cuda_gemv({type, rows, cols, device_weights.data()}, device_x.as<float>(), device_y.as<float>(), nullptr);
        const std::vector<float> got = to_host<float>(device_y, size_t(rows));
        for (int64_t r = 0; r < rows; ++r) {
          const double magnitude = dot_magnitude(type, weights.data() + r * row_bytes_of(type, cols), x.data(), cols);
          const double tolerance = 2.0 * double(cols + 16) * std::ldexp(1.0, -24) * magnitude;
          ASSERT_NEAR(got[size_t(r)], expected[size_t(r)], tolerance) << "row " << r;
        }
      }
    }
  }
}

// Dequantization to F16 is exact up to the final rounding, which both sides do to nearest even:
// bit-identical to fp32_to_fp16 of the CPU's dequantized weights.
TEST_F(CudaMatmul, DequantizeToF16IsBitExact) {
  std::mt19937 rng(5);
  for (TensorType type : kTypes) {
    const int64_t rows = 17, cols = type_traits(type).block_elements == 32 ? 224 : 1001;
    SCOPED_TRACE(type_label(type));
    const std::vector<uint8_t> weights = random_matrix(type, rows, cols, rng);
    std::vector<float> dequantized(static_cast<size_t>(rows * cols));
    type_traits(type).dequantize(weights.data(), dequantized.data(), rows * cols);

    const DeviceBuffer device_weights = to_device(weights);
    DeviceBuffer device_out(size_t(rows * cols) * 2);
    cuda_dequantize_to_f16({type, rows, cols, device_weights.data()}, device_out.as<uint16_t>(), nullptr);
    const std::vector<uint16_t> got = to_host<uint16_t>(device_out, size_t(rows * cols));
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], fp32_to_fp16(dequantized[i])) << "element " << i;
  }
}

// Tolerance: the activations are rounded to the weights' 16-bit type (unit roundoff u_x = 2^-11
// for F16, 2^-8 for BF16; none for F32 weights), quantized weights to F16 (u_w = 2^-11; F16 and
// BF16 weights are used as stored), then FP32 accumulation as in the GEMV bound:
// |y - ref| <= (2 u_x + 2 u_w + 4 (K + 16) 2^-24) Σ(|w| + |m|)|x|, twice each term for margin.
TEST_F(CudaMatmul, GemmMatchesScalarReference) {
  ScalarReference reference;
  CudaGemm gemm;
  std::mt19937 rng(7);
  for (TensorType type : kTypes) {
    const double activation_roundoff = type == TensorType::F32    ? 0.0
                                       : type == TensorType::BF16 ? std::ldexp(1.0, -8)
                                                                  : std::ldexp(1.0, -11);
    const double weight_roundoff = type_traits(type).block_elements == 32 ? std::ldexp(1.0, -11) : 0.0;
    for (int64_t cols : test_cols(type)) {
      for (int64_t rows : {3, 17, 70}) {
        for (int64_t n_rows : {1, 5, 33}) {
          SCOPED_TRACE(type_label(type) + " rows " + std::to_string(rows) + " cols " + std::to_string(cols) +
                       " activation rows " + std::to_string(n_rows));
          const std::vector<uint8_t> weights = random_matrix(type, rows, cols, rng);
          const std::vector<float> x = random_floats(n_rows * cols, rng);
          std::vector<float> expected(static_cast<size_t>(n_rows * rows));
          reference.ops().matmul({type, rows, cols, weights.data()}, x.data(), n_rows, expected.data());

          const DeviceBuffer device_weights = to_device(weights), device_x = to_device(x);
          DeviceBuffer device_y(size_t(n_rows * rows) * sizeof(float));
          gemm.matmul({type, rows, cols, device_weights.data()}, device_x.as<float>(), n_rows, device_y.as<float>(),
                      nullptr);
          const std::vector<float> got = to_host<float>(device_y, size_t(n_rows * rows));
          for (int64_t t = 0; t < n_rows; ++t) {
            for (int64_t r = 0; r < rows; ++r) {
              const double magnitude =
                  dot_magnitude(type, weights.data() + r * row_bytes_of(type, cols), x.data() + t * cols, cols);
              const double tolerance =
                  (2.0 * activation_roundoff + 2.0 * weight_roundoff + 4.0 * double(cols + 16) * std::ldexp(1.0, -24)) *
                  magnitude;
              ASSERT_NEAR(got[size_t(t * rows + r)], expected[size_t(t * rows + r)], tolerance)
                  << "activation row " << t << ", output " << r;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace phirun
