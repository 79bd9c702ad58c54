// From a validated GGUF file to a Model: hyper-parameters checked for consistency, every weight
// tensor checked for presence, type and shape before a view into the mapping is made.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "runtime/kv_cache.h"
#include "runtime/memory_budget.h"
#include "runtime/model.h"
#include "runtime/tokenizer_loader.h"
#include "runtime/weight_preparation.h"

namespace phirun {

namespace {

// Architectures whose forward pass phirun has, with their GGUF key prefix.
constexpr std::string_view kSupportedArchitectures[] = {"llama", "phi3", "qwen2", "gemma"};

// Upper bounds on hyper-parameters: far above any model we run, low enough that a lying file
// cannot make us allocate or loop absurdly.
constexpr uint64_t kMaxLayers = 1024;
constexpr uint64_t kMaxWidth = 1 << 17;
constexpr uint64_t kMaxContext = 1 << 24;
// The largest chat templates in use (Qwen3, with tools) are under 10 KB.
constexpr size_t kMaxChatTemplateBytes = 1 << 20;

[[noreturn]] void fail(const GgufFile& file, const std::string& problem) {
  throw std::runtime_error(file.error_prefix() + problem);
}

int64_t bounded(const GgufFile& file, const std::string& key, uint64_t value, uint64_t max) {
  if (value == 0 || value > max)
    fail(file, key + " = " + std::to_string(value) + " is out of range (1 to " + std::to_string(max) + ")");
  return int64_t(value);
}

// Sliding-window attention: any architecture may carry attention.sliding_window (llama.cpp
// writes it for phi3; phirun's builder for Mistral too). A window at least as long as the
// context masks nothing and is ignored, as llama.cpp does.
void read_sliding_window(const GgufFile& file, const std::string& prefix, ModelConfig& config) {
  const auto window = file.find_uint(prefix + "attention.sliding_window");
  if (!window || *window == 0 || *window >= uint64_t(config.context_length)) return;
  config.sliding_window = int64_t(*window);
}

std::vector<float> rope_factors(const GgufFile& file, const std::string& name, int64_t count) {
  const GgufTensor* tensor = file.find_tensor(name);
  if (!tensor)
    fail(file, "LongRoPE needs both rope_factors_short.weight and rope_factors_long.weight; " + name + " is missing");
  // F32 only, as llama.cpp's converter writes them and its rope op requires.
  if (tensor->type != TensorType::F32)
    fail(file, "tensor " + name + " is " + std::string(type_name(tensor->type)) + ", expected F32");
  if (tensor->n_dims != 1 || tensor->n_elements != uint64_t(count))
    fail(file, "tensor " + name + " has " + std::to_string(tensor->n_elements) + " factors in " +
                   std::to_string(tensor->n_dims) +
                   " dimensions, expected one row of rope.dimension_count / 2 = " + std::to_string(count));
  std::vector<float> factors(static_cast<size_t>(count));
  type_traits(tensor->type).dequantize(tensor->data, factors.data(), count);
  for (size_t i = 0; i < factors.size(); ++i)
    if (!std::isfinite(factors[i]) || factors[i] <= 0.0f)
      fail(file, "tensor " + name + " factor " + std::to_string(i) + " = " + std::to_string(factors[i]) +
                     " is not a finite positive number");
  return factors;
}

// LongRoPE (Phi-3-128k, Phi-3.5-mini, Phi-4-mini) as llama.cpp's converter writes it: the two
// factor tensors, rope.scaling.original_context_length and rope.scaling.attn_factor.
void read_long_rope(const GgufFile& file, const std::string& prefix, ModelConfig& config) {
  if (!file.find_tensor("rope_factors_long.weight") && !file.find_tensor("rope_factors_short.weight")) return;
  const int64_t count = config.rope.rotary_dims / 2;
  config.rope_factors_short = rope_factors(file, "rope_factors_short.weight", count);
  config.rope_factors_long = rope_factors(file, "rope_factors_long.weight", count);
  const std::string original_key = prefix + "rope.scaling.original_context_length";
  const auto original = file.find_uint(original_key);
  if (!original) fail(file, "LongRoPE factors are present but " + original_key + " is missing");
  config.rope_original_context = bounded(file, original_key, *original, uint64_t(config.context_length));
  // transformers' default: sqrt(1 + ln(factor) / ln(original)), factor = context / original.
  const double factor = double(config.context_length) / double(config.rope_original_context);
  const double computed = factor <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(factor) / std::log(double(*original)));
  const double attn_factor = file.find_float(prefix + "rope.scaling.attn_factor").value_or(computed);
  if (!std::isfinite(attn_factor) || attn_factor <= 0.0 || attn_factor > 16.0)
    fail(file, prefix + "rope.scaling.attn_factor = " + std::to_string(attn_factor) + " is not in (0, 16]");
  config.rope_attention_factor = float(attn_factor);
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& file) {
  ModelConfig config;
  config.architecture = file.get_string("general.architecture");
  bool supported = false;
  for (std::string_view name : kSupportedArchitectures) supported |= config.architecture == name;
  if (!supported)
    fail(file, "unsupported architecture '" + config.architecture + "' (phirun runs: llama, phi3, qwen2, gemma)");
  const std::string prefix = config.architecture + ".";
  auto get = [&](const std::string& key, uint64_t max) {
    return bounded(file, prefix + key, file.get_uint(prefix + key), max);
  };

  config.n_layers = get("block_count", kMaxLayers);
  config.hidden_size = get("embedding_length", kMaxWidth);
  config.n_heads = get("attention.head_count", kMaxWidth);
  config.n_kv_heads = get("attention.head_count_kv", kMaxWidth);
  config.ffn_size = get("feed_forward_length", kMaxWidth * 8);
  config.context_length = get("context_length", kMaxContext);
  // Gemma's heads need not tile the hidden size (Gemma-7B: 16 of 256 over 3072): key_length says.
  if (auto key_length = file.find_uint(prefix + "attention.key_length")) {
    config.head_dim = bounded(file, prefix + "attention.key_length", *key_length, kMaxWidth);
  } else {
    if (config.hidden_size % config.n_heads != 0)
      fail(file, prefix + "attention.head_count " + std::to_string(config.n_heads) +
                     " does not divide embedding_length " + std::to_string(config.hidden_size));
    config.head_dim = config.hidden_size / config.n_heads;
  }
  if (config.n_heads % config.n_kv_heads != 0)
    fail(file, prefix + "attention.head_count_kv " + std::to_string(config.n_kv_heads) +
                   " does not divide head_count " + std::to_string(config.n_heads));

  const double eps = file.find_float(prefix + "attention.layer_norm_rms_epsilon").value_or(1e-5);
  if (!std::isfinite(eps) || eps <= 0.0 || eps >= 1.0)
    fail(file, prefix + "attention.layer_norm_rms_epsilon = " + std::to_string(eps) + " is not in (0, 1)");
  config.rms_eps = float(eps);

  const double theta = file.find_float(prefix + "rope.freq_base").value_or(10000.0);
  if (!std::isfinite(theta) || theta <= 1.0)
    fail(file, prefix + "rope.freq_base = " + std::to_string(theta) + " is not a finite number above 1");
  config.rope.theta = float(theta);
  config.rope.rotary_dims =
      int64_t(file.find_uint(prefix + "rope.dimension_count").value_or(uint64_t(config.head_dim)));
  if (config.rope.rotary_dims <= 0 || config.rope.rotary_dims > config.head_dim || config.rope.rotary_dims % 2 != 0)
    fail(file, prefix + "rope.dimension_count = " + std::to_string(config.rope.rotary_dims) +
                   " must be even and at most the head size " + std::to_string(config.head_dim));
  // llama.cpp's converter permutes the Q and K rows of `llama` models so that RoPE rotates
  // adjacent pairs; the math is the same as Hugging Face's rotate_half on unpermuted rows.
  // `phi3` files keep Hugging Face's row order: RoPE rotates halves, and Q/K/V and gate/up are
  // stored fused. A partial rotary width (Phi-4-mini) is rope.dimension_count.
  config.rope.pairing = RopePairing::Adjacent;
  if (config.architecture == "phi3") {
    config.rope.pairing = RopePairing::Halves;
    config.fused_qkv = true;
    config.fused_gate_up = true;
  }
  // llama.cpp's qwen2 keeps Hugging Face's Q/K row order (RoPE on halves) and adds Q/K/V biases.
  if (config.architecture == "qwen2") {
    config.rope.pairing = RopePairing::Halves;
    config.qkv_bias = true;
  }
  // llama.cpp's gemma: RoPE on halves, GeGLU, embedding times sqrt(hidden); the norm weights are
  // stored with Gemma's + 1 already added.
  if (config.architecture == "gemma") {
    config.rope.pairing = RopePairing::Halves;
    config.gelu_mlp = true;
    config.embedding_scale = float(std::sqrt(double(config.hidden_size)));
  }
  read_sliding_window(file, prefix, config);
  read_long_rope(file, prefix, config);
  return config;
}

namespace {

MatrixView matrix(const GgufFile& file, const std::string& name, int64_t rows, int64_t cols) {
  const GgufTensor* tensor = file.find_tensor(name);
  if (!tensor) fail(file, "required tensor " + name + " is missing");
  if (tensor->n_dims != 2 || tensor->ne[0] != cols || tensor->ne[1] != rows)
    fail(file, "tensor " + name + " has shape [" + std::to_string(tensor->ne[0]) + ", " +
                   std::to_string(tensor->ne[1]) + (tensor->n_dims > 2 ? ", ..." : "") + "], expected [" +
                   std::to_string(cols) + ", " + std::to_string(rows) + "]");
  return MatrixView{tensor->type, rows, cols, tensor->data};
}

std::vector<float> vector_weights(const GgufFile& file, const std::string& name, int64_t size) {
  const GgufTensor* tensor = file.find_tensor(name);
  if (!tensor) fail(file, "required tensor " + name + " is missing");
  if (tensor->n_elements != uint64_t(size) || tensor->ne[0] != size)
    fail(file, "tensor " + name + " has " + std::to_string(tensor->n_elements) + " elements, expected " +
                   std::to_string(size));
  std::vector<float> values(static_cast<size_t>(size));
  type_traits(tensor->type).dequantize(tensor->data, values.data(), size);
  for (float value : values)
    if (!std::isfinite(value)) fail(file, "tensor " + name + " holds a value that is not finite");
  return values;
}

ModelWeights weights_from_gguf(const GgufFile& file, const ModelConfig& config) {
  ModelWeights weights;
  const GgufTensor* embedding = file.find_tensor("token_embd.weight");
  if (!embedding) fail(file, "required tensor token_embd.weight is missing");
  if (embedding->n_dims != 2) fail(file, "tensor token_embd.weight must be 2-D");
  const int64_t vocab = embedding->ne[1];
  const int64_t hidden = config.hidden_size;
  const int64_t q_width = config.n_heads * config.head_dim;
  const int64_t kv_width = config.n_kv_heads * config.head_dim;
  weights.token_embedding = matrix(file, "token_embd.weight", vocab, hidden);
  weights.output_norm = vector_weights(file, "output_norm.weight", hidden);
  weights.output = file.find_tensor("output.weight") ? matrix(file, "output.weight", vocab, hidden)
                                                     : weights.token_embedding;  // tied head
  weights.layers.resize(size_t(config.n_layers));
  for (int64_t l = 0; l < config.n_layers; ++l) {
    const std::string block = "blk." + std::to_string(l) + ".";
    LayerWeights& layer = weights.layers[size_t(l)];
    layer.attn_norm = vector_weights(file, block + "attn_norm.weight", hidden);
    if (config.fused_qkv) {
      layer.wqkv = matrix(file, block + "attn_qkv.weight", q_width + 2 * kv_width, hidden);
    } else {
      layer.wq = matrix(file, block + "attn_q.weight", q_width, hidden);
      layer.wk = matrix(file, block + "attn_k.weight", kv_width, hidden);
      layer.wv = matrix(file, block + "attn_v.weight", kv_width, hidden);
    }
    if (config.qkv_bias) {
      layer.bq = vector_weights(file, block + "attn_q.bias", q_width);
      layer.bk = vector_weights(file, block + "attn_k.bias", kv_width);
      layer.bv = vector_weights(file, block + "attn_v.bias", kv_width);
    }
    layer.wo = matrix(file, block + "attn_output.weight", hidden, q_width);
    layer.ffn_norm = vector_weights(file, block + "ffn_norm.weight", hidden);
    if (config.fused_gate_up) {
      layer.w_gate_up = matrix(file, block + "ffn_up.weight", 2 * config.ffn_size, hidden);
    } else {
      layer.w_gate = matrix(file, block + "ffn_gate.weight", config.ffn_size, hidden);
      layer.w_up = matrix(file, block + "ffn_up.weight", config.ffn_size, hidden);
    }
    layer.w_down = matrix(file, block + "ffn_down.weight", hidden, config.ffn_size);
  }
  return weights;
}

// The Tokenizer constructor validates the vocabulary but knows nothing of files: its errors get
// the path here, as every error of Model::load does.
std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufFile& file, int64_t embedding_rows) {
  TokenizerVocab vocab = vocab_from_gguf(file);  // its errors already name the file
  pad_vocab_to_rows(vocab, embedding_rows, file);
  try {
    return std::make_unique<Tokenizer>(std::move(vocab));
  } catch (const std::runtime_error& error) {
    fail(file, error.what());
  }
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  std::unique_ptr<Model> model(new Model());
  model->file_ = GgufFile::open(path);
  const GgufFile& file = model->file_;
  model->config_ = config_from_gguf(file);
  model->weights_ = weights_from_gguf(file, model->config_);
  model->config_.vocab_size = model->weights_.token_embedding.rows;

  // Before the weights are repacked (the one large allocation of a load): would they and a KV
  // cache of the context asked for fit?
  for (const GgufTensor& tensor : file.tensors()) model->weights_bytes_ += tensor.n_bytes;
  model->max_memory_bytes_ = options.max_memory_bytes;
  const int64_t trained = model->config_.context_length;
  const int64_t context =
      options.context_length > 0 ? std::min(options.context_length, trained) : std::min<int64_t>(trained, 4096);
  model->check_kv_memory(double(context) * double(KvCache::bytes_per_position(model->config_, TensorType::F16)),
                         "a KV cache of " + std::to_string(context) + " tokens");
  prepare_weights_for_cpu(model->weights_, model->prepared_weights_);

  // Fewer tokenizer entries than rows is normal (Phi-3: 32011 of 32064); more is an error.
  model->tokenizer_ = tokenizer_from_gguf(file, model->config_.vocab_size);
  model->chat_template_ = file.find_string("tokenizer.chat_template").value_or("");
  if (model->chat_template_.size() > kMaxChatTemplateBytes)
    fail(file, "tokenizer.chat_template is " + std::to_string(model->chat_template_.size()) +
                   " bytes, above the limit of " + std::to_string(kMaxChatTemplateBytes) +
                   " (real templates are a few KB)");

  const int threads = options.n_threads > 0 ? options.n_threads : ThreadPool::physical_core_count();
  model->pool_ = std::make_unique<ThreadPool>(threads);
  return model;
}

void Model::check_kv_memory(double kv_bytes, const std::string& kv_what, const std::string& advice) const {
  check_memory_need(file_.error_prefix(), MemoryNeed{weights_bytes_, kv_bytes, kv_what, advice}, max_memory_bytes_);
}

}  // namespace phirun
