// The read-bandwidth probe: see read_probe.h.
#include "kernels/cpu/read_probe.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/gemm/prefetch.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/stream_buffer.h"
#include "kernels/ops.h"

namespace phirun {

namespace {

constexpr int64_t kChunkFloats = 16 * 1024;  // 64 KiB: a few panels of a decode matmul
constexpr int kMinPasses = 5;
constexpr double kMinSeconds = 0.25;  // small buffers take many passes, so the best is not luck
constexpr int kMaxPasses = 1000;

// "48K", "2048K", "480M" (sysfs cache sizes) in bytes; 0 when unreadable.
uint64_t parse_cache_size(const std::string& text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str()) return 0;
  const char unit = *end;
  const uint64_t scale = unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : unit == 'G' ? 1024ull << 20 : 1;
  return uint64_t(value) * scale;
}

}  // namespace

float stream_sum_ref(const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 16 == 0) prefetch_ahead(reinterpret_cast<const uint8_t*>(x + i), 64);
    sum += x[i];
  }
  return sum;
}

uint64_t last_level_cache_bytes() {
  uint64_t largest = 0;
  for (int index = 0; index < 8; ++index) {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
    std::string size;
    if (!(in >> size)) continue;
    largest = std::max(largest, parse_cache_size(size));
  }
  return largest;
}

uint64_t memory_probe_bytes() {
  const uint64_t memory = uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGE_SIZE));
  const uint64_t wanted = std::max<uint64_t>(uint64_t(1) << 30, 2 * last_level_cache_bytes());
  return std::max<uint64_t>(std::min(wanted, memory / 4), uint64_t(kChunkFloats) * sizeof(float));
}

double probe_read_bandwidth(ThreadPool& pool, uint64_t bytes) {
  const int64_t chunks = std::max<int64_t>(1, int64_t((bytes + kChunkFloats * 4 - 1) / (kChunkFloats * 4)));
  const int64_t floats = chunks * kChunkFloats;
  std::unique_ptr<float[], FreeDeleter> buffer(
      reinterpret_cast<float*>(allocate_stream_buffer(size_t(floats) * sizeof(float))));
  if (!buffer)
    throw std::runtime_error("read-bandwidth probe: cannot allocate " + std::to_string(floats * 4) + " bytes");
  // Small integers, written once: the pages are real (not the shared zero page), and no sum is
  // ever a denormal or infinite (which some CPUs add slowly).
  for (int64_t i = 0; i < floats; ++i) buffer[size_t(i)] = float(i & 3);

  const OpKernels* kernels = op_kernels(active_isa());
  const StreamSumKernel sum = kernels && kernels->stream_sum ? kernels->stream_sum : stream_sum_ref;
  std::vector<float> sums(static_cast<size_t>(chunks));
  auto pass = [&] {
    pool.parallel_for(chunks, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c)
        sums[size_t(c)] = sum(buffer.get() + c * kChunkFloats, kChunkFloats);
    });
  };
  pass();  // untimed: page faults, and the caches as decode's warm-up leaves them
  double best = 1e30, total = 0;
  for (int n = 0; n < kMaxPasses && (n < kMinPasses || total < kMinSeconds); ++n) {
    const auto start = std::chrono::steady_clock::now();
    pass();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
    total += seconds;
  }
  // The sums must be used, or the compiler may drop the reads.
  volatile float sink = 0.0f;
  for (float s : sums) sink = sink + s;
  return double(floats) * sizeof(float) / best / 1e9;
}

std::string read_probe_method() {
  return "each thread sums its share of a buffer (chunks of 64 KiB claimed from the pool) with the decode kernels' "
         "prefetch " +
         std::to_string(kPrefetchBytes / 1024) + " KiB ahead, best of at least " + std::to_string(kMinPasses) +
         " passes and " + std::to_string(int(kMinSeconds * 1000)) + " ms";
}

}  // namespace phirun
