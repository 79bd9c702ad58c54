// The software prefetch of the decode kernels, shared with the read-bandwidth probe
// (kernels/cpu/read_probe.h) so that the probe streams memory the way decode does.
#pragma once

#include <cstdint>

namespace phirun {

// Decode reads each weight byte once per token, one sequential stream per thread. A software
// prefetch into L2 this far ahead of the loads keeps more cache-line misses in flight than the
// hardware prefetcher alone. SmolLM2 decode on a 2-core Xeon VM (14-18 GB/s per core), tok/s at
// 1 / 2 threads, no prefetch -> 8 KiB ahead: F16 45-49 -> 51-53 / 72-80 -> 96-101, Q4_1
// 108-114 -> 214-227 / 200-226 -> 372-382 (part of a small model's bytes then come from L3).
// 1-2 KiB ahead gained about half of that, prefetching into L1 less past 2 KiB, and a
// non-temporal prefetch halved the speed. Prefill reuses each panel from cache: no prefetch.
constexpr int64_t kPrefetchBytes = 8192;

// Prefetches, for L2, the cache lines of [p + kPrefetchBytes, p + kPrefetchBytes + bytes).
// A prefetch past the end of the weights is harmless: it never faults.
inline void prefetch_ahead(const uint8_t* p, int64_t bytes) {
  for (int64_t line = 0; line < bytes; line += 64) __builtin_prefetch(p + kPrefetchBytes + line, 0, 2);
}

}  // namespace phirun
