// Flash-decoding attention and the cache writes against CpuOps' scalar attention and store_kv:
// contexts within one 256-position chunk and across several, several query rows, grouped-query
// heads, head sizes 64, 96 and 128, F16 and F32 caches, a sliding window over a ring cache.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cuda/cuda_kernels.h"
#include "kernels/quant/half.h"
#include "tests/cuda/cuda_test.h"

namespace phirun {
namespace {

constexpr double kUnit = 1.0 / 16777216.0;  // 2^-24

// A cache of random keys and values (keys at twice the spread, as real ones run larger), as
// host bytes of `type`.
std::vector<uint8_t> random_cache_half(TensorType type, int64_t n, std::mt19937& rng, float scale) {
  const std::vector<float> values = random_floats(n, rng, scale);
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * (type == TensorType::F16 ? 2 : 4));
  if (type == TensorType::F32) {
    std::memcpy(bytes.data(), values.data(), bytes.size());
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t half = fp32_to_fp16(values[size_t(i)]);
      std::memcpy(bytes.data() + 2 * i, &half, 2);
    }
  }
  return bytes;
}

float cache_float(TensorType type, const std::vector<uint8_t>& bytes, int64_t index) {
  if (type == TensorType::F32) {
    float value;
    std::memcpy(&value, bytes.data() + 4 * index, 4);
    return value;
  }
  uint16_t half;
  std::memcpy(&half, bytes.data() + 2 * index, 2);
  return fp16_to_fp32(half);
}

using CudaAttentionTest = CudaTest;

// Tolerance: each side's score carries a float dot-product error of at most head_dim 2^-24 S,
// S = max over positions of scale Σ|q k|; scores off by δ change softmax weights by a factor
// within e^(±2δ), so the output (a weighted mean of values) moves by at most about 2δ max|v| per
// side. The sums of weights and weighted values add (positions + 64) 2^-24 max|v| per side (the
// 64 covers exp's few ulps and the chunk merge). Allowed: (4 head_dim 2^-24 S +
// 2 (positions + 64) 2^-24) max|v|, doubled for margin.
TEST_F(CudaAttentionTest, FlashDecodingMatchesScalarReference) {
  ScalarReference reference;
  CudaAttention attention;
  std::mt19937 rng(29);
  struct Case {
    TensorType type;
    int64_t head_dim, start, n_rows, window, capacity;  // capacity 0: start + n_rows + 3
  };
  std::vector<Case> cases;
  for (int64_t head_dim : {64, 96, 128})
    for (int64_t start : {0, 5, 255, 700})
      for (int64_t n_rows : {1, 3, 17}) cases.push_back({TensorType::F16, head_dim, start, n_rows, 0, 0});
  cases.push_back({TensorType::F32, 64, 300, 3, 0, 0});
  cases.push_back({TensorType::F16, 96, 1000, 1, 100, 128});  // ring: the window wraps around
  cases.push_back({TensorType::F16, 64, 1000, 5, 300, 320});  // a window over two chunks, wrapping
  for (const Case& c : cases) {
    SCOPED_TRACE(type_label(c.type) + " head_dim " + std::to_string(c.head_dim) + " start " + std::to_string(c.start) +
                 " rows " + std::to_string(c.n_rows) + " window " + std::to_string(c.window));
    const int64_t n_heads = 6, n_kv = 2;
    const int64_t capacity = c.capacity > 0 ? c.capacity : c.start + c.n_rows + 3;
    const int64_t cache_elements = n_kv * capacity * c.head_dim;
    std::vector<uint8_t> keys = random_cache_half(c.type, cache_elements, rng, 2.0f);
    std::vector<uint8_t> values = random_cache_half(c.type, cache_elements, rng, 1.0f);
    const std::vector<float> q = random_floats(c.n_rows * n_heads * c.head_dim, rng);
    AttentionParams params;
    params.n_heads = n_heads;
    params.head_dim = c.head_dim;
    params.scale = 1.0f / std::sqrt(float(c.head_dim));
    params.window = c.window;
    KvLayerView host_cache{c.type, n_kv, capacity, c.head_dim, keys.data(), values.data()};
    std::vector<float> expected(q.size());
    reference.ops().attention(q.data(), c.n_rows, c.start, host_cache, params, expected.data());

    DeviceBuffer device_keys = to_device(keys), device_values = to_device(values);
    const DeviceBuffer device_q = to_device(q);
    DeviceBuffer device_out(q.size() * sizeof(float));
    KvLayerView device_cache{c.type, n_kv, capacity, c.head_dim, device_keys.data(), device_values.data()};
    attention.attention(device_q.as<float>(), c.n_rows, c.start, device_cache, params, device_out.as<float>(), nullptr);
    const std::vector<float> got = to_host<float>(device_out, q.size());

    double largest_value = 0.0, largest_score = 0.0;
    for (int64_t i = 0; i < cache_elements; ++i)
      largest_value = std::max(largest_value, std::fabs(double(cache_float(c.type, values, i))));
    for (int64_t t = 0; t < c.n_rows; ++t)
      for (int64_t h = 0; h < n_heads; ++h)
        for (int64_t row = 0; row < capacity; ++row) {
          double magnitude = 0.0;
          for (int64_t d = 0; d < c.head_dim; ++d)
            magnitude +=
                std::fabs(q[size_t((t * n_heads + h) * c.head_dim + d)] *
                          cache_float(c.type, keys, ((h / (n_heads / n_kv)) * capacity + row) * c.head_dim + d));
          largest_score = std::max(largest_score, magnitude * params.scale);
        }
    const int64_t positions = c.window > 0 ? std::min(c.window, c.start + c.n_rows) : c.start + c.n_rows;
    const double tolerance =
        2.0 * (4.0 * double(c.head_dim) * kUnit * largest_score + 2.0 * double(positions + 64) * kUnit) * largest_value;
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], tolerance) << "element " << i;
  }
}

// Conversions to F16 round to nearest even on both sides; F32 is copied: bit-identical caches,
// including rows that wrap around a ring.
TEST_F(CudaAttentionTest, StoreKvIsBitExact) {
  ScalarReference reference;
  std::mt19937 rng(31);
  for (TensorType type : {TensorType::F16, TensorType::F32}) {
    SCOPED_TRACE(type_label(type));
    const int64_t n_kv = 3, capacity = 10, head_dim = 40, n_rows = 7, start = 6;  // rows 6..9, then 0..2
    const size_t cache_bytes = size_t(n_kv * capacity * head_dim) * (type == TensorType::F16 ? 2 : 4);
    std::vector<uint8_t> keys(cache_bytes, 0), values(cache_bytes, 0);
    const std::vector<float> k = random_floats(n_rows * n_kv * head_dim, rng, 3.0f);
    const std::vector<float> v = random_floats(n_rows * n_kv * head_dim, rng);
    reference.ops().store_kv({type, n_kv, capacity, head_dim, keys.data(), values.data()}, k.data(), v.data(), n_rows,
                             start);

    DeviceBuffer device_keys = to_device(std::vector<uint8_t>(cache_bytes, 0));
    DeviceBuffer device_values = to_device(std::vector<uint8_t>(cache_bytes, 0));
    const DeviceBuffer device_k = to_device(k), device_v = to_device(v);
    cuda_store_kv({type, n_kv, capacity, head_dim, device_keys.data(), device_values.data()}, device_k.as<float>(),
                  device_v.as<float>(), n_rows, start, nullptr);
    EXPECT_EQ(to_host<uint8_t>(device_keys, cache_bytes), keys);
    EXPECT_EQ(to_host<uint8_t>(device_values, cache_bytes), values);
  }
}

}  // namespace
}  // namespace phirun
