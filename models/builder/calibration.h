// Calibration: run a model over a text and record, for every matrix it multiplies, the mean square
// of each input channel (the diagonal of E[x xᵀ]) and, within a memory budget, the whole E[x xᵀ]. A weight column that
// meets large activations matters more to the output, so these are the importance weights of the quantization error,
// the idea behind llama.cpp's imatrix and AWQ.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace phirun::builder {

struct ActivationStats {
  // GGUF tensor name -> mean of x_j^2 over every row the matrix multiplied, one per input column.
  std::map<std::string, std::vector<float>> mean_squares;
  // GGUF tensor name -> E[x xᵀ], [cols][cols], for GPTQ. Matrices fed the same activations (Q, K
  // and V; gate and up) share one. Absent for tensors past the memory budget.
  std::map<std::string, std::shared_ptr<const std::vector<float>>> second_moments;
  int64_t tokens = 0;
  int64_t chunks = 0;
};

struct CalibrationOptions {
  int64_t context = 512;       // tokens per chunk (each chunk starts afresh, BOS first if the model adds one)
  int64_t max_chunks = 0;      // 0: every whole chunk of the text
  bool second_moments = true;  // also collect E[x xᵀ] per matrix input (GPTQ)
  uint64_t second_moment_budget_bytes = uint64_t(4) << 30;
  std::function<void(int64_t chunk, int64_t chunks)> on_chunk;
  const std::atomic<bool>* cancel = nullptr;
};

// Throws std::runtime_error("PATH: problem") when the text cannot be read, is not UTF-8 or is
// shorter than one chunk.
ActivationStats collect_activation_stats(const Model& model, const std::string& text_path,
                                         const CalibrationOptions& options);

// Statistics saved for reuse (--calib-cache), so several builds of one model calibrate once:
// "PHIRUNCS", u32 version 1, u64 tokens, u64 chunks, then the shared second moments and the
// per-tensor entries. Reading checks every count against the file's size.
void write_activation_stats(const ActivationStats& stats, const std::string& path);
ActivationStats read_activation_stats(const std::string& path);

}  // namespace phirun::builder
