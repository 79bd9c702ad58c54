// xoshiro256** 1.0 and splitmix64, written from the published algorithms
// (https://prng.di.unimi.it/): fast, 256 bits of state, and every output bit passes BigCrush.
#include "search/random.h"

#include <random>

namespace phirun {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr uint64_t rotate_left(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SeededRandom::SeededRandom(uint64_t seed) {
  // splitmix64 spreads any seed (0, 1, 2, ...) over the whole state, which is never all zero.
  uint64_t mixer = seed;
  for (uint64_t& word : state_) word = splitmix64(mixer);
}

SeededRandom SeededRandom::from_state(const std::array<uint64_t, 4>& state) {
  SeededRandom random(0);
  random.state_ = state;
  return random;
}

uint64_t SeededRandom::next_u64() {
  const uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
  const uint64_t shifted = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= shifted;
  state_[3] = rotate_left(state_[3], 45);
  return result;
}

double SeededRandom::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

uint64_t SeededRandom::entropy_seed() {
  std::random_device device;
  return (uint64_t(device()) << 32) ^ uint64_t(device());
}

}  // namespace phirun
