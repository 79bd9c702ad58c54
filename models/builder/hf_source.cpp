// Hugging Face folders and random-weight configs as build sources: config.json -> architecture
// keys (llama.cpp's names and types), tensor plan -> readers over the safetensors mapping (or the
// random generator), tokenizer files -> tokenizer keys.
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "models/builder/hf_config.h"
#include "models/builder/model_source.h"
#include "models/builder/random_weights.h"
#include "models/builder/safetensors.h"

namespace phirun::builder {

namespace {

namespace fs = std::filesystem;

Metadata architecture_metadata(const HfConfig& config, const std::string& name) {
  const std::string arch = gguf_architecture(config);
  Metadata metadata;
  auto u32 = [&](const std::string& key, int64_t value) {
    metadata.emplace_back(arch + "." + key, GgufValue::of_u32(uint32_t(value)));
  };
  auto f32 = [&](const std::string& key, double value) {
    metadata.emplace_back(arch + "." + key, GgufValue::of_f32(float(value)));
  };
  metadata.emplace_back("general.architecture", GgufValue::of_string(arch));
  metadata.emplace_back("general.type", GgufValue::of_string("model"));
  metadata.emplace_back("general.name", GgufValue::of_string(name));
  u32("block_count", config.n_layers);
  u32("context_length", config.max_position_embeddings);
  u32("embedding_length", config.hidden_size);
  u32("feed_forward_length", config.intermediate_size);
  u32("attention.head_count", config.n_heads);
  u32("attention.head_count_kv", config.n_kv_heads);
  f32("rope.freq_base", config.rope_theta);
  f32("attention.layer_norm_rms_epsilon", config.rms_norm_eps);
  u32("rope.dimension_count", config.rotary_dims());
  if (config.head_dim * config.n_heads != config.hidden_size) {
    u32("attention.key_length", config.head_dim);
    u32("attention.value_length", config.head_dim);
  }
  if (config.is_llama()) {
    u32("vocab_size", config.vocab_size);
    if (config.sliding_window > 0) u32("attention.sliding_window", config.sliding_window);  // Mistral
  } else if (config.architecture == HfArchitecture::Phi3) {
    // llama.cpp's phi3 converter: the original context, the sliding window (0 = none) and, for
    // LongRoPE, the attention factor sqrt(1 + ln(scale) / ln(original context)).
    if (config.original_max_position_embeddings > 0)
      u32("rope.scaling.original_context_length", config.original_max_position_embeddings);
    u32("attention.sliding_window", config.sliding_window);
    if (!config.rope_long_factors.empty()) {
      const double scale = double(config.max_position_embeddings) / double(config.original_max_position_embeddings);
      const double factor =
          scale > 1.0 ? std::sqrt(1.0 + std::log(scale) / std::log(double(config.original_max_position_embeddings)))
                      : 1.0;
      f32("rope.scaling.attn_factor", factor);
    }
  }
  return metadata;
}

TensorType safetensors_type(const std::string& dtype) {
  if (dtype == "F16") return TensorType::F16;
  if (dtype == "BF16") return TensorType::BF16;
  return TensorType::F32;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

void add_constant(SourceTensor& tensor) {
  tensor.read_rows = [values = tensor.plan.constant](int64_t, int64_t, float* out) {
    std::copy(values.begin(), values.end(), out);
  };
}

}  // namespace

std::unique_ptr<ModelSource> open_hf_folder(const std::string& folder) {
  if (!fs::is_directory(folder)) throw std::runtime_error(folder + ": not a folder");
  const HfConfig config = read_hf_config((fs::path(folder) / "config.json").string());
  auto checkpoint = std::make_shared<Checkpoint>(Checkpoint::open_folder(folder));
  auto source = std::make_unique<ModelSource>();
  source->input_path = folder;
  source->input_bytes = checkpoint->total_bytes();
  source->tied_embedding = config.tie_word_embeddings;
  const std::string name = fs::path(folder).filename().empty() ? fs::path(folder).parent_path().filename().string()
                                                               : fs::path(folder).filename().string();
  source->metadata = architecture_metadata(config, name);
  ExportedTokenizer tokenizer = export_tokenizer(folder, config);
  for (auto& entry : tokenizer.metadata) source->metadata.push_back(std::move(entry));

  std::string dtypes;
  for (const TensorPlan& plan : plan_tensors(config)) {
    SourceTensor tensor;
    tensor.plan = plan;
    if (plan.role == TensorRole::Constant) {
      add_constant(tensor);
      source->tensors.push_back(std::move(tensor));
      continue;
    }
    const SafetensorsTensor& stored = checkpoint->get(plan.source);
    // PyTorch shapes are outermost first: [rows, cols] for a matrix, the reverse of GGUF's dims.
    const std::vector<int64_t> expected(plan.dims.rbegin(), plan.dims.rend());
    if (stored.shape != expected)
      throw std::runtime_error(checkpoint->shards()[size_t(stored.shard)]->path() + ": tensor " + plan.source +
                               " has shape " + shape_text(stored.shape) + ", the config implies " +
                               shape_text(expected));
    if (stored.dtype != "F32" && stored.dtype != "F16" && stored.dtype != "BF16")
      throw std::runtime_error(checkpoint->shards()[size_t(stored.shard)]->path() + ": tensor " + plan.source +
                               " has dtype " + stored.dtype + ": phirun builds from F32, F16 or BF16 weights");
    if (dtypes.find(stored.dtype) == std::string::npos) dtypes += (dtypes.empty() ? "" : "/") + stored.dtype;
    tensor.source_type = safetensors_type(stored.dtype);
    const SafetensorsTensor* stored_pointer = &stored;
    const Checkpoint* reader = checkpoint.get();
    if (plan.permute_heads > 0) {
      tensor.read_rows = [reader, stored_pointer, heads = plan.permute_heads, rows = plan.n_rows()](
                             int64_t first, int64_t count, float* out) {
        const int64_t length = stored_pointer->row_length();
        for (int64_t r = 0; r < count; ++r)
          reader->read_rows(*stored_pointer, permuted_source_row(first + r, rows, heads), 1, out + r * length);
      };
    } else {
      tensor.read_rows = [reader, stored_pointer, offset = plan.offset](int64_t first, int64_t count, float* out) {
        reader->read_rows(*stored_pointer, first, count, out);
        if (offset != 0.0f)
          for (int64_t i = 0; i < count * stored_pointer->row_length(); ++i) out[i] += offset;
      };
    }
    tensor.release = [reader, stored_pointer] { reader->release(*stored_pointer); };
    source->tensors.push_back(std::move(tensor));
  }
  source->description = "Hugging Face folder " + folder + " (" + config.architecture_name + ", " +
                        std::to_string(checkpoint->shards().size()) + " safetensors file" +
                        (checkpoint->shards().size() > 1 ? "s" : "") + ", " + dtypes + "; tokenizer " +
                        tokenizer.model + (tokenizer.pre.empty() ? "" : "/" + tokenizer.pre) + " from " +
                        fs::path(tokenizer.source).filename().string() + ")";
  source->keep_alive = checkpoint;
  return source;
}

std::unique_ptr<ModelSource> open_random_weights(const std::string& config_path, const std::string& tokenizer_folder,
                                                 uint64_t seed) {
  const HfConfig config = read_hf_config(config_path);
  const std::string folder = tokenizer_folder.empty() ? fs::path(config_path).parent_path().string() : tokenizer_folder;
  auto source = std::make_unique<ModelSource>();
  source->tied_embedding = config.tie_word_embeddings;
  source->metadata = architecture_metadata(config, "random weights (" + config.architecture_name + ")");
  ExportedTokenizer tokenizer;
  try {
    tokenizer = export_tokenizer(folder.empty() ? "." : folder, config);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(std::string(error.what()) +
                             " (a random-weight model still needs a tokenizer: give --tokenizer FOLDER)");
  }
  for (auto& entry : tokenizer.metadata) source->metadata.push_back(std::move(entry));
  source->metadata.emplace_back("phirun.random_weights", GgufValue::of_bool(true));
  source->metadata.emplace_back("phirun.random_seed", GgufValue::of_u64(seed));
  for (const TensorPlan& plan : plan_tensors(config)) {
    SourceTensor tensor;
    tensor.plan = plan;
    if (plan.role == TensorRole::Constant) {
      add_constant(tensor);
    } else {
      // Random values are generated for the checkpoint's name and row order, then permuted like
      // real weights, so a random GGUF equals the build of the same random checkpoint.
      const bool is_vector = plan.dims.size() == 1;
      tensor.read_rows = [name = plan.source, seed, is_vector, length = plan.row_length(), rows = plan.n_rows(),
                          heads = plan.permute_heads, offset = plan.offset](int64_t first, int64_t count, float* out) {
        for (int64_t r = 0; r < count; ++r) {
          const int64_t row = heads > 0 ? permuted_source_row(first + r, rows, heads) : first + r;
          random_rows(name, seed, is_vector, length, row, 1, out + r * length);
        }
        for (int64_t i = 0; i < count * length; ++i) out[i] += offset;
      };
    }
    source->tensors.push_back(std::move(tensor));
  }
  source->description = "random weights (seed " + std::to_string(seed) + ") for " + config_path + " (" +
                        config.architecture_name + "; tokenizer " + tokenizer.model + " from " +
                        fs::path(tokenizer.source).filename().string() + ")";
  return source;
}

}  // namespace phirun::builder
