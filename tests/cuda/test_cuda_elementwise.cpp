// RMSNorm, RoPE (plain, LongRoPE factors, partial rotary, both pairings), SwiGLU, GeGLU, add and
// the embedding lookup against CpuOps' scalar references, on awkward sizes.
#include <cmath>
#include <cstring>

#include "kernels/cuda/cuda_kernels.h"
#include "tests/cuda/cuda_test.h"

namespace phirun {
namespace {

constexpr double kUnit = 1.0 / 16777216.0;  // 2^-24, float's unit roundoff

using CudaElementwise = CudaTest;

// Tolerance: the GPU sums squares in float (a share of dim / 256 per thread, then 5 shuffle
// levels and 8 warps), the reference in double: relative error of the mean square at most
// (dim / 256 + 13) 2^-24, halved by the square root; division, sqrt and two products add a few
// units. Allowed: 2 (dim / 256 + 20) 2^-24 |ref|.
TEST_F(CudaElementwise, RmsNormMatchesScalarReference) {
  ScalarReference reference;
  std::mt19937 rng(11);
  for (int64_t dim : {7, 576, 3077}) {
    for (int64_t n_rows : {1, 3, 17}) {
      SCOPED_TRACE("dim " + std::to_string(dim) + " rows " + std::to_string(n_rows));
      const std::vector<float> x = random_floats(n_rows * dim, rng, 3.0f), weight = random_floats(dim, rng);
      std::vector<float> expected(x.size());
      reference.ops().rms_norm(x.data(), weight.data(), n_rows, dim, 1e-5f, expected.data());
      const DeviceBuffer device_x = to_device(x), device_weight = to_device(weight);
      DeviceBuffer device_out(x.size() * sizeof(float));
      cuda_rms_norm(device_x.as<float>(), device_weight.as<float>(), n_rows, dim, 1e-5f, device_out.as<float>(),
                    nullptr);
      const std::vector<float> got = to_host<float>(device_out, x.size());
      const double relative = 2.0 * (double(dim) / 256.0 + 20.0) * kUnit;
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[i], relative * std::fabs(expected[i])) << "element " << i;
    }
  }
}

// Tolerance: both sides compute the angle as Hugging Face does (inverse frequency via double pow,
// angle in float, cos and sin in double) and the rotation without fused multiply-adds, so most
// outputs are bit-identical. The device's double pow, cos and sin may differ from the host's libm
// by an ulp of double, which can move a float rounding by one ulp: of cos/sin (2^-24 relative)
// or of the inverse frequency, which moves the angle by |angle| 2^-23. Allowed per element:
// 2^-24 (4 + 4 |angle|max) attention_factor (|x0| + |x1|).
TEST_F(CudaElementwise, RopeMatchesScalarReference) {
  ScalarReference reference;
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> factor(1.0f, 8.0f);
  struct Case {
    int64_t head_dim, rotary_dims;
    RopePairing pairing;
    bool long_rope;
  };
  const Case cases[] = {{64, 64, RopePairing::Adjacent, false},
                        {64, 64, RopePairing::Halves, false},
                        {96, 96, RopePairing::Halves, true},   // Phi-3.5-mini's LongRoPE
                        {128, 96, RopePairing::Halves, true},  // partial rotary with factors
                        {80, 32, RopePairing::Adjacent, false}};
  for (const Case& c : cases) {
    for (int64_t start : {0, 7, 5000}) {
      for (int64_t n_rows : {1, 3, 17}) {
        SCOPED_TRACE("head_dim " + std::to_string(c.head_dim) + " rotary " + std::to_string(c.rotary_dims) + " start " +
                     std::to_string(start) + " rows " + std::to_string(n_rows));
        const int64_t n_heads = 3;
        std::vector<float> factors(static_cast<size_t>(c.rotary_dims / 2));
        for (float& f : factors) f = factor(rng);
        RopeParams params;
        params.theta = 10000.0f;
        params.rotary_dims = c.rotary_dims;
        params.pairing = c.pairing;
        params.attention_factor = c.long_rope ? 1.19f : 1.0f;
        params.frequency_factors = c.long_rope ? factors.data() : nullptr;
        const std::vector<float> x = random_floats(n_rows * n_heads * c.head_dim, rng);
        std::vector<float> expected = x;
        reference.ops().rope(expected.data(), n_rows, n_heads, c.head_dim, start, params);

        DeviceBuffer device_x = to_device(x);
        const DeviceBuffer device_factors = to_device(factors);
        RopeParams device_params = params;
        if (c.long_rope) device_params.frequency_factors = device_factors.as<float>();
        cuda_rope(device_x.as<float>(), n_rows, n_heads, c.head_dim, start, device_params, nullptr);
        const std::vector<float> got = to_host<float>(device_x, x.size());
        const double largest_angle = double(start + n_rows);
        for (size_t i = 0; i < got.size(); ++i) {
          // The pair partner of element i, for the magnitude in the bound (itself past rotary_dims).
          const int64_t head_base = int64_t(i) / c.head_dim * c.head_dim, d = int64_t(i) % c.head_dim;
          int64_t partner = d;
          if (d < c.rotary_dims)
            partner = c.pairing == RopePairing::Adjacent ? (d ^ 1) : (d + c.rotary_dims / 2) % c.rotary_dims;
          const double magnitude = std::fabs(x[i]) + std::fabs(x[size_t(head_base + partner)]);
          const double tolerance = kUnit * (4.0 + 4.0 * largest_angle) * params.attention_factor * magnitude;
          ASSERT_NEAR(got[i], expected[i], tolerance) << "element " << i;
        }
      }
    }
  }
}

// Inputs with extremes (±100: exp and tanh saturate) besides normal values.
std::vector<float> gate_values(int64_t n, std::mt19937& rng) {
  std::vector<float> gate = random_floats(n, rng, 3.0f);
  for (size_t i = 0; i < gate.size(); i += 97) gate[i] = (i / 97) % 2 ? 100.0f : -100.0f;
  return gate;
}

// Tolerances: CUDA's expf and tanhf are within 2 ulp, the host's within 1; with 1 + exp, the
// division and the product, SwiGLU's two results differ by at most about 7 ulp: 32 2^-24 |ref|
// (an ulp is at most 2^-23 relative) is allowed. GeGLU's 1 + tanh cancels where tanh is near -1: its absolute
// error is that of tanh (2 ulp of 1) times |x up| / 2, so 8 2^-24 |x up| is allowed besides.
TEST_F(CudaElementwise, GatedActivationsMatchScalarReference) {
  ScalarReference reference;
  std::mt19937 rng(17);
  for (int64_t n : {1, 17, 1000, 100003}) {
    SCOPED_TRACE("n " + std::to_string(n));
    const std::vector<float> gate = gate_values(n, rng), up = random_floats(n, rng);
    std::vector<float> expected_swiglu(static_cast<size_t>(n)), expected_geglu(static_cast<size_t>(n));
    reference.ops().swiglu(gate.data(), up.data(), n, expected_swiglu.data());
    reference.ops().geglu(gate.data(), up.data(), n, expected_geglu.data());
    const DeviceBuffer device_gate = to_device(gate), device_up = to_device(up);
    DeviceBuffer device_out(size_t(n) * sizeof(float));
    cuda_swiglu(device_gate.as<float>(), device_up.as<float>(), n, device_out.as<float>(), nullptr);
    const std::vector<float> swiglu = to_host<float>(device_out, size_t(n));
    cuda_geglu(device_gate.as<float>(), device_up.as<float>(), n, device_out.as<float>(), nullptr);
    const std::vector<float> geglu = to_host<float>(device_out, size_t(n));
    for (size_t i = 0; i < size_t(n); ++i) {
      ASSERT_NEAR(swiglu[i], expected_swiglu[i], 32.0 * kUnit * std::fabs(expected_swiglu[i])) << "swiglu " << i;
      const double geglu_tolerance =
          16.0 * kUnit * std::fabs(expected_geglu[i]) + 8.0 * kUnit * std::fabs(gate[i] * up[i]);
      ASSERT_NEAR(geglu[i], expected_geglu[i], geglu_tolerance) << "geglu " << i;
    }
  }
}

// One IEEE addition per element on both sides: exact equality.
TEST_F(CudaElementwise, AddIsExact) {
  ScalarReference reference;
  std::mt19937 rng(19);
  for (int64_t n : {1, 17, 100003}) {
    const std::vector<float> x = random_floats(n, rng), y = random_floats(n, rng);
    std::vector<float> expected = x;
    reference.ops().add(expected.data(), y.data(), n);
    DeviceBuffer device_x = to_device(x);
    const DeviceBuffer device_y = to_device(y);
    cuda_add(device_x.as<float>(), device_y.as<float>(), n, nullptr);
    EXPECT_EQ(to_host<float>(device_x, size_t(n)), expected) << "n " << n;
  }
}

// Dequantization rounds each product and sum as the reference does: bit-identical rows. An id
// outside the table gives a row of NaN, never a read outside it.
TEST_F(CudaElementwise, EmbedIsBitExact) {
  ScalarReference reference;
  std::mt19937 rng(23);
  for (TensorType type :
       {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1}) {
    SCOPED_TRACE(type_label(type));
    const int64_t rows = 51, cols = type_traits(type).block_elements == 32 ? 576 : 577;
    const std::vector<uint8_t> table = random_matrix(type, rows, cols, rng);
    const std::vector<int32_t> ids = {0, 50, 7, 7, 23};
    std::vector<float> expected(ids.size() * size_t(cols));
    reference.ops().embed({type, rows, cols, table.data()}, ids, expected.data());

    const DeviceBuffer device_table = to_device(table), device_ids = to_device(ids);
    DeviceBuffer device_out(expected.size() * sizeof(float));
    cuda_embed({type, rows, cols, device_table.data()}, device_ids.as<int32_t>(), int64_t(ids.size()),
               device_out.as<float>(), nullptr);
    const std::vector<float> got = to_host<float>(device_out, expected.size());
    ASSERT_EQ(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0);

    const std::vector<int32_t> bad_ids = {3, int32_t(rows), -1};
    const DeviceBuffer device_bad_ids = to_device(bad_ids);
    cuda_embed({type, rows, cols, device_table.data()}, device_bad_ids.as<int32_t>(), 3, device_out.as<float>(),
               nullptr);
    const std::vector<float> bad = to_host<float>(device_out, 3 * size_t(cols));
    std::vector<float> row_3(static_cast<size_t>(cols));
    reference.ops().embed({type, rows, cols, table.data()}, std::vector<int32_t>{3}, row_3.data());
    EXPECT_EQ(std::memcmp(bad.data(), row_3.data(), row_3.size() * sizeof(float)), 0);
    for (int64_t col = 0; col < cols; ++col) {
      EXPECT_TRUE(std::isnan(bad[size_t(cols + col)]));
      EXPECT_TRUE(std::isnan(bad[size_t(2 * cols + col)]));
    }
  }
}

}  // namespace
}  // namespace phirun
