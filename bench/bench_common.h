// What the kernel benchmarks share: the matrix shapes of Phi-3.5-mini and SmolLM2, random
// weights of every type made quickly, and this machine's peaks (measured at start-up by small
// probes in machine_peaks.cpp) that the fraction-of-peak counters divide by.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/quant/tensor_type.h"

namespace phirun::bench {

struct Shape {
  const char* model;
  const char* name;    // which projection
  int64_t rows, cols;  // W is [rows][cols]: out features x in features
};

inline const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = {
      {"phi35", "qkv", 9216, 3072},    {"phi35", "o", 3072, 3072},     {"phi35", "gate_up", 16384, 3072},
      {"phi35", "down", 3072, 8192},   {"phi35", "head", 32064, 3072}, {"smollm2", "q_o", 576, 576},
      {"smollm2", "kv", 192, 576},     {"smollm2", "gate", 1536, 576}, {"smollm2", "down", 576, 1536},
      {"smollm2", "head", 49152, 576},
  };
  return all;
}

// Row-major bytes of a rows x cols matrix of `type` with random but finite, plausible values.
std::vector<uint8_t> random_weights(TensorType type, int64_t rows, int64_t cols);
std::vector<float> random_activations(int64_t n);

struct MachinePeaks {
  double read_gb_per_s[2] = {0, 0};    // memory read bandwidth, 1 and 2 threads
  double fma_gflop_per_s[2] = {0, 0};  // FP32 FMA
  double int8_gop_per_s[2] = {0, 0};   // VNNI (or vpmaddubsw) int8 dot
};
// Measured once, on first use (about two seconds).
const MachinePeaks& machine_peaks();

}  // namespace phirun::bench
