// Deterministic random weights that do not depend on the platform or the standard library: each
// value is a hash (splitmix64) of the tensor's name, a seed and the element's index, turned into a
// float exactly. The Python fixture script computes the same values with numpy, so tests can
// rebuild a Hugging Face checkpoint here and compare with transformers run on the same weights.
#pragma once

#include <cstdint>
#include <string_view>

namespace phirun::builder {

// FNV-1a of the name, mixed with the seed: one stream per tensor.
uint64_t random_stream(std::string_view tensor_name, uint64_t seed);

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [-1, 1) with 24 random bits: k * 2^-23 - 1 for k in [0, 2^24), exact in float.
inline float random_uniform(uint64_t stream, uint64_t index) {
  const uint64_t bits = splitmix64(stream + index) >> 40;
  return float(int64_t(bits)) * (1.0f / 8388608.0f) - 1.0f;
}

// The power of two nearest 1/sqrt(fan_in): keeps activations near unit size, and a power of two
// scales a float exactly, so numpy and C++ agree bit for bit.
float random_matrix_scale(int64_t fan_in);

// Matrices: uniform * random_matrix_scale(row length). Vectors (norms): 1 + uniform / 16.
void random_rows(std::string_view tensor_name, uint64_t seed, bool is_vector, int64_t row_length, int64_t first_row,
                 int64_t n_rows, float* out);

}  // namespace phirun::builder
