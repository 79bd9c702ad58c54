// The random weight generator shared (formula for formula) with tests/fixtures/make_hf_checkpoints.py.
#include "models/builder/random_weights.h"

#include <cmath>

namespace phirun::builder {

uint64_t random_stream(std::string_view tensor_name, uint64_t seed) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : tensor_name) {
    hash ^= uint8_t(c);
    hash *= 0x100000001b3ull;
  }
  return splitmix64(hash ^ seed);
}

float random_matrix_scale(int64_t fan_in) {
  const int exponent = int(std::lround(0.5 * std::log2(double(std::max<int64_t>(fan_in, 1)))));
  return std::ldexp(1.0f, -exponent);
}

void random_rows(std::string_view tensor_name, uint64_t seed, bool is_vector, int64_t row_length, int64_t first_row,
                 int64_t n_rows, float* out) {
  const uint64_t stream = random_stream(tensor_name, seed);
  const float scale = random_matrix_scale(row_length);
  const uint64_t start = uint64_t(first_row * row_length);
  for (int64_t i = 0; i < n_rows * row_length; ++i) {
    const float u = random_uniform(stream, start + uint64_t(i));
    out[i] = is_vector ? 1.0f + u * 0.0625f : u * scale;
  }
}

}  // namespace phirun::builder
