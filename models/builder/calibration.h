// Calibration: run a model over a text and record, for every matrix it multiplies, the mean square
// of each input channel (the diagonal of E[x xᵀ]). A weight column that meets large activations
// matters more to the output, so these are the importance weights of the quantization error, the
// idea behind llama.cpp's imatrix and AWQ.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace phirun::builder {

struct ActivationStats {
  // GGUF tensor name -> mean of x_j^2 over every row the matrix multiplied, one per input column.
  std::map<std::string, std::vector<float>> mean_squares;
  int64_t tokens = 0;
  int64_t chunks = 0;
};

struct CalibrationOptions {
  int64_t context = 512;   // tokens per chunk (each chunk starts afresh, BOS first if the model adds one)
  int64_t max_chunks = 0;  // 0: every whole chunk of the text
  std::function<void(int64_t chunk, int64_t chunks)> on_chunk;
  const std::atomic<bool>* cancel = nullptr;
};

// Throws std::runtime_error("PATH: problem") when the text cannot be read, is not UTF-8 or is
// shorter than one chunk.
ActivationStats collect_activation_stats(const Model& model, const std::string& text_path,
                                         const CalibrationOptions& options);

}  // namespace phirun::builder
