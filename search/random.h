// A seeded pseudo-random generator of our own: xoshiro256** (Blackman and Vigna) seeded through
// splitmix64. std::mt19937 is portable but std:: distributions are not (each standard library
// turns bits into numbers its own way), so phirun makes its numbers from raw bits itself and a
// seed gives the same draws on every platform.
#pragma once

#include <array>
#include <cstdint>

namespace phirun {

class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed);
  // A generator in exactly this state (not all zero): for the published test vectors.
  static SeededRandom from_state(const std::array<uint64_t, 4>& state);

  // 64 random bits.
  uint64_t next_u64();
  // Uniform in [0, 1), from the top 53 bits: every double of the form k / 2^53.
  double uniform();

  // A seed from the operating system's entropy (std::random_device), for random_seed = -1.
  static uint64_t entropy_seed();

 private:
  std::array<uint64_t, 4> state_{};
};

}  // namespace phirun
