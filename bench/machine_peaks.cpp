// Probes of this machine's limits, run once: main memory's read bandwidth (kernels/cpu/
// read_probe.h: a buffer of at least 1 GiB and twice the last-level cache) and the FP32 FMA and int8 dot throughput of one core
// (independent accumulator chains of AVX-512 instructions; twice that for 2 threads only when
// the probe at 2 threads says so).
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "kernels/cpu/read_probe.h"
#include "kernels/quant/half.h"

namespace phirun::bench {

namespace {

double seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Probe>
double run_threads(int threads, Probe probe) {  // returns the total rate over all threads
  std::vector<double> rates(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back([&, t] { rates[size_t(t)] = probe(t, threads); });
  for (std::thread& w : workers) w.join();
  double total = 0;
  for (double r : rates) total += r;
  return total;
}

// Main memory as decode reads it: the probe `phirun bench --precisions` uses (read_probe.h).
double read_bandwidth(int threads) {
  ThreadPool pool(threads);
  return probe_read_bandwidth(pool, memory_probe_bytes());
}

double fma_peak(int threads) {
  return run_threads(threads, [](int, int) {
    __m512 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i));
    const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(0.001f);
    const long iterations = 20'000'000;
    const auto start = std::chrono::steady_clock::now();
    for (long n = 0; n < iterations; ++n)
      for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    const double elapsed = seconds(start);
    __m512 sum = acc[0];
    for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return double(iterations) * 12 * 16 * 2 / elapsed / 1e9;
  });
}

double int8_peak(int threads) {
  return run_threads(threads, [](int, int) {
    __m512i acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_epi32(i);
    const __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-2);
    const long iterations = 20'000'000;
    const auto start = std::chrono::steady_clock::now();
    for (long n = 0; n < iterations; ++n)
      for (int i = 0; i < 12; ++i) {
#if defined(__AVX512VNNI__)
        acc[i] = _mm512_dpbusd_epi32(acc[i], x, y);
#else
        acc[i] = _mm512_add_epi32(acc[i], _mm512_madd_epi16(_mm512_maddubs_epi16(x, y), _mm512_set1_epi16(1)));
#endif
      }
    const double elapsed = seconds(start);
    __m512i sum = acc[0];
    for (int i = 1; i < 12; ++i) sum = _mm512_add_epi32(sum, acc[i]);
    volatile int sink = _mm512_reduce_add_epi32(sum);
    (void)sink;
    return double(iterations) * 12 * 64 * 2 / elapsed / 1e9;
  });
}

}  // namespace

const MachinePeaks& machine_peaks() {
  static const MachinePeaks peaks = [] {
    MachinePeaks p;
    for (int t = 1; t <= 2; ++t) {
      p.read_gb_per_s[t - 1] = read_bandwidth(t);
      p.fma_gflop_per_s[t - 1] = fma_peak(t);
      p.int8_gop_per_s[t - 1] = int8_peak(t);
    }
    return p;
  }();
  return peaks;
}

std::vector<uint8_t> random_weights(TensorType type, int64_t rows, int64_t cols) {
  const TypeTraits& traits = type_traits(type);
  std::vector<uint8_t> bytes(size_t(rows * (cols / traits.block_elements) * traits.block_bytes));
  std::mt19937_64 rng(99);
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    const uint64_t r = rng();
    std::memcpy(&bytes[i], &r, 8);
  }
  const auto set_half = [&](size_t offset, float value) {
    const uint16_t h = type == TensorType::BF16 ? fp32_to_bf16(value) : fp32_to_fp16(value);
    std::memcpy(&bytes[offset], &h, 2);
  };
  switch (type) {
    case TensorType::F32:
      for (size_t i = 0; i < bytes.size(); i += 4) {
        const float v = float(int(bytes[i]) - 128) / 4096.0f;
        std::memcpy(&bytes[i], &v, 4);
      }
      break;
    case TensorType::F16:
    case TensorType::BF16:
      for (size_t i = 0; i < bytes.size(); i += 2) set_half(i, float(int(bytes[i]) - 128) / 4096.0f);
      break;
    default:  // block types: random codes, a small scale (and minimum) per block
      for (size_t b = 0; b < bytes.size(); b += size_t(traits.block_bytes)) {
        set_half(b, 0.002f);
        if (type == TensorType::Q4_1) set_half(b + 2, -0.016f);
      }
  }
  return bytes;
}

std::vector<float> random_activations(int64_t n) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng);
  return x;
}

}  // namespace phirun::bench
