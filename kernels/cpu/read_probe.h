// This machine's read bandwidth as decode meets it: each thread streams its share of a buffer with
// the decode kernels' software prefetch (gemm/prefetch.h) on the active SIMD variant, the buffer
// cut into chunks claimed from the thread pool as a matmul's panels are. The roof that decode,
// which reads every weight once per token, cannot go past.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/cpu/thread_pool.h"

namespace phirun {

// GB/s (1e9 bytes) of the best of several passes over a buffer of `bytes` (rounded up to 64 KiB)
// read on every thread of `pool`, after one untimed pass. A buffer the size of the weights one
// token reads gives that model's roof: what of it stays in the caches from token to token is
// read at cache speed, as decode reads it.
double probe_read_bandwidth(ThreadPool& pool, uint64_t bytes);

// The buffer that measures main memory: at least 1 GiB and twice the last-level cache, at most a
// quarter of the machine's memory.
uint64_t memory_probe_bytes();

// Bytes of the largest cache sysfs lists for CPU 0; 0 when it lists none.
uint64_t last_level_cache_bytes();

// The single scalar loop the SIMD stream kernels are tested against.
float stream_sum_ref(const float* x, int64_t n);

// How probe_read_bandwidth measures, in one line, for reports.
std::string read_probe_method();

}  // namespace phirun
