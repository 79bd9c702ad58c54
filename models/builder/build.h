// `phirun build`: a Hugging Face folder, a GGUF file or a random-weight config in, one GGUF file
// out, each tensor read, quantized by the precision policy and streamed to disk, so memory stays
// near one tensor. The file appears only when complete (temporary name, then rename).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kernels/quant/quantize_search.h"
#include "models/builder/precision.h"

namespace phirun::builder {

struct BuildProgress {
  std::string stage;  // "calibrating" or "writing"
  int64_t done = 0;   // chunks or tensors done
  int64_t total = 0;
  uint64_t bytes_written = 0;
  uint64_t bytes_total = 0;
  double elapsed_seconds = 0.0;  // since the build started
  std::string current;           // the tensor being written
  double stage_seconds = 0.0;    // since this stage started: the time-left estimate scales it
};

struct BuildOptions {
  std::string input;   // HF folder or .gguf file
  std::string output;  // .gguf file
  PrecisionPolicy policy;
  bool force = false;  // overwrite an existing output file
  int threads = 0;     // 0: physical cores

  // Calibration (--calib): importance weights from activations over this text.
  std::string calibration_text;
  int64_t calibration_context = 512;
  int64_t calibration_chunks = 0;  // 0: the whole text
  std::string calibration_cache;   // statistics file: read when it exists, else written after calibrating
  bool gptq = true;                // with calibration: GPTQ error feedback (else importance weights only)

  // --random-weights: no input; the shape from this config.json, the tokenizer from a folder.
  bool random_weights = false;
  std::string random_config;
  std::string random_tokenizer;  // "" : the config's folder
  uint64_t seed = 0;

  QuantSearch search;
  std::function<void(const BuildProgress&)> on_progress;
  const std::atomic<bool>* cancel = nullptr;  // set from a signal handler: the build stops cleanly
};

struct BuildSummary {
  std::string source;  // what was read
  uint64_t input_bytes = 0;
  uint64_t file_bytes = 0;
  int64_t parameters = 0;
  double seconds = 0.0;
  double calibration_seconds = 0.0;
  int64_t calibration_tokens = 0;
  std::map<std::string, int64_t> parameters_by_type;  // "Q4_0" -> weights stored in that type
  std::vector<std::string> notes;                     // fallbacks worth telling the user
};

// Throws std::runtime_error with a message naming the file and the problem; no output file is
// left behind on any error, full disk or cancellation.
BuildSummary build_model(const BuildOptions& options);

// Checks that `output` may be written: not the input, not an existing file unless `force`, in a
// folder that exists and is writable. Throws std::runtime_error otherwise.
void check_output_path(const std::string& input, const std::string& output, bool force);

}  // namespace phirun::builder
