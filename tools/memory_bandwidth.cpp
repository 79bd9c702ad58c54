// Read bandwidth by summing 64-bit words of a 512 MiB buffer (16x the 32 MiB L3 of a typical
// server part, so nearly every byte comes from DRAM; less on a machine under 2 GiB), split into
// one contiguous part per thread. Plain C++: the compiler vectorises the sum with the build's ISA;
// four accumulators keep the loads independent so the loop waits on memory, not on the adds.
#include "tools/memory_bandwidth.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace phirun::cli {

namespace {

constexpr int kPasses = 5;

// 512 MiB, or a quarter of the memory on a small machine, so the probe never strains it.
size_t buffer_bytes() {
  const uint64_t memory = uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGE_SIZE));
  return size_t(std::min<uint64_t>(uint64_t(512) << 20, memory / 4)) & ~size_t(4095);
}

uint64_t sum_words(const uint64_t* words, size_t count) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    a += words[i];
    b += words[i + 1];
    c += words[i + 2];
    d += words[i + 3];
  }
  for (; i < count; ++i) a += words[i];
  return a + b + c + d;
}

}  // namespace

double measure_read_bandwidth(int threads) {
  threads = std::max(threads, 1);
  // Distinct values, written once: the pages are real (not the shared zero page) before timing.
  std::vector<uint64_t> buffer(buffer_bytes() / sizeof(uint64_t));
  for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = i;
  const size_t part = buffer.size() / size_t(threads);
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  double best_seconds = 1e30;
  for (int pass = 0; pass < kPasses; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; ++t)
      workers.emplace_back([&, t] { sums[size_t(t)] = sum_words(buffer.data() + part * size_t(t), part); });
    sums[0] = sum_words(buffer.data(), part);
    for (std::thread& worker : workers) worker.join();
    best_seconds =
        std::min(best_seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  // The sums must be used, or the compiler may drop the reads.
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;
  return double(part * size_t(threads) * sizeof(uint64_t)) / best_seconds / 1e9;
}

std::string read_bandwidth_method() {
  return "sum of a " + std::to_string(buffer_bytes() >> 20) + " MiB buffer, one contiguous part per thread, best of " +
         std::to_string(kPasses) + " passes";
}

}  // namespace phirun::cli
