// Block formats against hand-built blocks (byte layout, nibble order, scale and minimum), the
// quantize error bound of each format, and the scalar dot product.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"
#include "kernels/quant/tensor_type.h"

namespace phirun {
namespace {

TEST(QuantFormats, TypeIdsAndSizesMatchGgml) {
  EXPECT_EQ(tensor_type_from_id(0), TensorType::F32);
  EXPECT_EQ(tensor_type_from_id(1), TensorType::F16);
  EXPECT_EQ(tensor_type_from_id(2), TensorType::Q4_0);
  EXPECT_EQ(tensor_type_from_id(3), TensorType::Q4_1);
  EXPECT_EQ(tensor_type_from_id(8), TensorType::Q8_0);
  EXPECT_EQ(tensor_type_from_id(30), TensorType::BF16);
  EXPECT_FALSE(tensor_type_from_id(12).has_value());  // Q4_K: not (yet) ours
  EXPECT_FALSE(tensor_type_from_id(4).has_value());   // removed Q4_2
  EXPECT_EQ(row_bytes(TensorType::Q4_0, 64), 36u);
  EXPECT_EQ(row_bytes(TensorType::Q4_1, 64), 40u);
  EXPECT_EQ(row_bytes(TensorType::Q8_0, 96), 102u);
  EXPECT_EQ(row_bytes(TensorType::F16, 7), 14u);
  EXPECT_FALSE(row_bytes(TensorType::Q8_0, 33).has_value());
  EXPECT_FALSE(row_bytes(TensorType::F32, int64_t(1) << 62).has_value());
}

TEST(QuantFormats, Q8_0HandBuiltBlock) {
  block_q8_0 block{};
  block.d = fp32_to_fp16(0.5f);
  for (int j = 0; j < 32; ++j) block.qs[j] = int8_t(j - 16);
  float out[32];
  type_traits(TensorType::Q8_0).dequantize(&block, out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * float(j - 16)) << j;
  // Bytes as stored: the scale (little-endian f16) first, then the int8 values.
  uint8_t raw[34];
  std::memcpy(raw, &block, 34);
  EXPECT_EQ(raw[0], 0x00);
  EXPECT_EQ(raw[1], 0x38);
  EXPECT_EQ(int8_t(raw[2]), -16);
}

TEST(QuantFormats, Q4_0NibbleOrder) {
  block_q4_0 block{};
  block.d = fp32_to_fp16(2.0f);
  // Low nibble of qs[j] is element j, high nibble element j + 16.
  for (int j = 0; j < 16; ++j) block.qs[j] = uint8_t(j | ((15 - j) << 4));
  float out[32];
  type_traits(TensorType::Q4_0).dequantize(&block, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * float(j - 8)) << j;
    EXPECT_EQ(out[j + 16], 2.0f * float(15 - j - 8)) << j;
  }
}

TEST(QuantFormats, Q4_1ScaleAndMinimum) {
  block_q4_1 block{};
  block.d = fp32_to_fp16(0.25f);
  block.m = fp32_to_fp16(-1.0f);
  for (int j = 0; j < 16; ++j) block.qs[j] = uint8_t((j % 16) | (3 << 4));
  float out[32];
  type_traits(TensorType::Q4_1).dequantize(&block, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 0.25f * float(j) - 1.0f) << j;
    EXPECT_EQ(out[j + 16], 0.25f * 3.0f - 1.0f) << j;
  }
}

// Quantize random rows and check each element against the format's rounding bound: half a
// step of the block's scale, plus the error of storing that scale in f16.
class QuantizeBound : public ::testing::TestWithParam<TensorType> {};

TEST_P(QuantizeBound, DequantizedWithinHalfAStep) {
  const TensorType type = GetParam();
  const TypeTraits& traits = type_traits(type);
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 32 * 37;
  std::vector<float> x(n), back(n);
  for (float& v : x) v = normal(rng) * (rng() % 4 == 0 ? 10.0f : 0.1f);
  x[5] = 0.0f;
  std::fill(x.begin() + 64, x.begin() + 96, 0.0f);  // an all-zero block
  std::vector<uint8_t> packed(*row_bytes(type, n));
  traits.quantize(x.data(), packed.data(), n);
  traits.dequantize(packed.data(), back.data(), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    float lo = x[b * 32], hi = x[b * 32], amax = 0;
    for (int j = 0; j < 32; ++j) {
      lo = std::min(lo, x[b * 32 + j]);
      hi = std::max(hi, x[b * 32 + j]);
      amax = std::max(amax, std::fabs(x[b * 32 + j]));
    }
    float step = 0;
    if (type == TensorType::Q8_0) step = amax / 127;
    if (type == TensorType::Q4_0) step = amax / 8;
    if (type == TensorType::Q4_1) step = (hi - lo) / 15;
    // f16 scale: relative error 2^-11 on d (times at most 16 levels), and on Q4_1's minimum.
    const float scale_error = (type == TensorType::Q8_0 ? 128 : 16) * step * 0x1p-11f + amax * 0x1p-11f;
    for (int j = 0; j < 32; ++j) {
      const int64_t i = b * 32 + j;
      // Q4_0 spans -8 .. 7 steps with the extreme at -8: a value near +8 steps on the other
      // side clamps to 7, an error of up to one step.
      const float clamp_error = type == TensorType::Q4_0 ? std::max(0.0f, std::fabs(x[i]) - 7.5f * step) : 0.0f;
      ASSERT_LE(std::fabs(back[i] - x[i]), 0.5f * step + clamp_error + scale_error + 1e-7f)
          << type_name(type) << " block " << b << " element " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllQuantized, QuantizeBound,
                         ::testing::Values(TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1),
                         [](const auto& test_info) { return std::string(type_name(test_info.param)); });

TEST(QuantFormats, FloatTypesRoundTrip) {
  const std::vector<float> x = {1.0f, -0.5f, 3.140625f, 0.0f, 65504.0f, -1e-3f, 7.0f};
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    const TypeTraits& traits = type_traits(type);
    std::vector<uint8_t> packed(*row_bytes(type, int64_t(x.size())));
    std::vector<float> back(x.size());
    traits.quantize(x.data(), packed.data(), int64_t(x.size()));
    traits.dequantize(packed.data(), back.data(), int64_t(x.size()));
    const float relative = type == TensorType::F32 ? 0 : type == TensorType::F16 ? 0x1p-11f : 0x1p-8f;
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_LE(std::fabs(back[i] - x[i]), relative * std::fabs(x[i]) + 1e-7f) << type_name(type) << " " << i;
  }
}

// The reference dot equals the dot of the dequantized row, computed in double, to float
// rounding: n products of magnitude |w||x| summed in float err by at most ~n * 2^-24 of the sum.
TEST(QuantFormats, DotMatchesDequantizedDot) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (TensorType type :
       {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1}) {
    const TypeTraits& traits = type_traits(type);
    for (int64_t n : {32, 64, 96, 320, 1536}) {
      std::vector<float> w(n), x(n), wd(n);
      for (float& v : w) v = uniform(rng);
      for (float& v : x) v = uniform(rng);
      std::vector<uint8_t> packed(*row_bytes(type, n));
      traits.quantize(w.data(), packed.data(), n);
      traits.dequantize(packed.data(), wd.data(), n);
      double exact = 0, magnitude = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += double(wd[i]) * x[i];
        magnitude += std::fabs(double(wd[i]) * x[i]);
      }
      const float got = traits.dot(packed.data(), x.data(), n);
      EXPECT_NEAR(got, exact, double(n) * 0x1p-24 * magnitude + 1e-7) << type_name(type) << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace phirun
