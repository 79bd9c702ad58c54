// Where a build's weights come from: a Hugging Face folder, a GGUF file (re-quantized) or random
// weights for a config. Each source gives the GGUF metadata (architecture and tokenizer keys) and
// a reader per tensor that yields rows as floats, so the build pipeline is the same for all three.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/builder/tensor_plan.h"
#include "models/builder/tokenizer_export.h"

namespace phirun::builder {

struct SourceTensor {
  TensorPlan plan;
  // Rows [first, first + count) as floats, count * plan.row_length() values. Thread-safe.
  std::function<void(int64_t first, int64_t count, float* out)> read_rows;
  // Called once the tensor is written: lets a mapped source drop its pages (may be empty).
  std::function<void()> release;
  // The type the values are stored in at the source: a copy in this type is exact.
  TensorType source_type = TensorType::F32;
};

struct ModelSource {
  std::string description;  // one line for the build summary
  std::string input_path;   // the file or folder read ("" for random weights)
  uint64_t input_bytes = 0;
  Metadata metadata;  // architecture, tokenizer and generation keys; no file-type keys
  std::vector<SourceTensor> tensors;
  bool tied_embedding = false;
  std::shared_ptr<void> keep_alive;  // the mappings the readers read from
};

// A Hugging Face folder: config.json, safetensors shards, tokenizer files. Every tensor the config
// implies is checked for presence and shape before anything is written.
std::unique_ptr<ModelSource> open_hf_folder(const std::string& folder);

// A GGUF file of a supported architecture, its tensors dequantized to floats.
std::unique_ptr<ModelSource> open_gguf_file(const std::string& path);

// Random weights of the shape `config_path` describes, with the tokenizer files of
// `tokenizer_folder` (default: the config's folder). Marked in the metadata (phirun.random_weights).
std::unique_ptr<ModelSource> open_random_weights(const std::string& config_path, const std::string& tokenizer_folder,
                                                 uint64_t seed);

}  // namespace phirun::builder
