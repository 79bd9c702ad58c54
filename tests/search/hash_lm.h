// The synthetic language model of tests/fixtures/make_generation_fixtures.py: the logits of the
// next token are an integer hash of the sequence on a grid of 1/1000, exact in float32, so
// transformers' beam search over it can be replayed here without any float noise.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace phirun::testing {

inline uint64_t hash_lm_mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Logits in [-5, 5) for tokens 0 .. vocab-1, plus end_bias on token 0 (the script's hash_logits).
inline std::vector<float> hash_lm_logits(std::span<const int32_t> sequence, int64_t vocab, uint64_t salt,
                                         double end_bias) {
  uint64_t h = salt;
  for (int32_t token : sequence) h = hash_lm_mix(h ^ (uint64_t(uint32_t(token))));
  std::vector<float> logits(static_cast<size_t>(vocab));
  for (int64_t v = 0; v < vocab; ++v) {
    double value = double(int64_t((hash_lm_mix(h ^ uint64_t(v)) >> 40) % 10000) - 5000) / 1000.0;
    if (v == 0) value += end_bias;
    logits[size_t(v)] = float(value);
  }
  return logits;
}

}  // namespace phirun::testing
