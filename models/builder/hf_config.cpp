// config.json -> HfConfig. Each check names the key and what was found, so a user can fix the file.
#include "models/builder/hf_config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace phirun::builder {

namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxDimension = int64_t(1) << 20;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

struct Reader {
  const Json& json;
  const std::string& path;

  const Json* find(const std::string& key) const {
    const auto found = json.find(key);
    return found == json.end() || found->is_null() ? nullptr : &*found;
  }

  int64_t positive(const std::string& key, int64_t max = kMaxDimension) const {
    const Json* value = find(key);
    if (!value) fail(path, "key '" + key + "' is missing");
    return positive_value(key, *value, max);
  }

  int64_t positive_value(const std::string& key, const Json& value, int64_t max = kMaxDimension) const {
    if (!value.is_number_integer()) fail(path, "key '" + key + "' must be an integer, found " + value.dump());
    const int64_t number = value.get<int64_t>();
    if (number <= 0 || number > max)
      fail(path,
           "key '" + key + "' = " + std::to_string(number) + " is out of range (1 to " + std::to_string(max) + ")");
    return number;
  }

  std::optional<int64_t> optional_positive(const std::string& key, int64_t max = kMaxDimension) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    return positive_value(key, *value, max);
  }

  double number(const std::string& key, double fallback) const {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number()) fail(path, "key '" + key + "' must be a number, found " + value->dump());
    return value->get<double>();
  }

  bool boolean(const std::string& key, bool fallback) const {
    const Json* value = find(key);
    if (!value) return fallback;
    if (!value->is_boolean()) fail(path, "key '" + key + "' must be true or false, found " + value->dump());
    return value->get<bool>();
  }

  std::optional<int64_t> token_id(const std::string& key) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    if (!value->is_number_integer() || value->get<int64_t>() < 0)
      fail(path, "key '" + key + "' must be a token id, found " + value->dump());
    return value->get<int64_t>();
  }
};

std::vector<float> factor_list(const std::string& path, const Json& rope, const char* key) {
  const auto found = rope.find(key);
  if (found == rope.end() || !found->is_array()) fail(path, std::string("LongRoPE scaling has no '") + key + "' list");
  std::vector<float> factors;
  for (const Json& value : *found) {
    if (!value.is_number() || !(value.get<double>() > 0.0))
      fail(path, std::string("LongRoPE '") + key + "' holds a value that is not a positive number");
    factors.push_back(value.get<float>());
  }
  return factors;
}

// transformers 5 keeps theta and scaling in rope_parameters; older files use rope_theta and
// rope_scaling at the top level.
void read_rope(const Reader& reader, HfConfig& config) {
  const Json* parameters = reader.find("rope_parameters");
  if (parameters && parameters->is_object() && parameters->contains("full_attention"))
    parameters = &(*parameters)["full_attention"];
  config.rope_theta = reader.number("rope_theta", 10000.0);
  if (parameters && parameters->is_object()) {
    const Reader nested{*parameters, reader.path};
    config.rope_theta = nested.number("rope_theta", config.rope_theta);
    config.partial_rotary_factor = nested.number("partial_rotary_factor", config.partial_rotary_factor);
    if (auto original = nested.optional_positive("original_max_position_embeddings", int64_t(1) << 30))
      config.original_max_position_embeddings = *original;
  }
  config.partial_rotary_factor = reader.number("partial_rotary_factor", config.partial_rotary_factor);
  if (!std::isfinite(config.rope_theta) || config.rope_theta <= 1.0)
    fail(reader.path, "rope_theta = " + std::to_string(config.rope_theta) + " must be a finite number above 1");
  if (!(config.partial_rotary_factor > 0.0 && config.partial_rotary_factor <= 1.0))
    fail(reader.path, "partial_rotary_factor must be in (0, 1]");

  const Json* scaling = reader.find("rope_scaling");
  if (!scaling && parameters && parameters->is_object()) scaling = parameters;
  if (!scaling) return;
  if (!scaling->is_object()) fail(reader.path, "rope_scaling must be an object");
  std::string type;
  for (const char* key : {"rope_type", "type"}) {
    const auto found = scaling->find(key);
    if (found != scaling->end() && found->is_string()) type = found->get<std::string>();
  }
  if (type.empty() || type == "default") return;
  if ((type == "longrope" || type == "su") && config.architecture == HfArchitecture::Phi3) {
    config.rope_scaling_type = "longrope";
    config.rope_long_factors = factor_list(reader.path, *scaling, "long_factor");
    config.rope_short_factors = factor_list(reader.path, *scaling, "short_factor");
    return;
  }
  fail(reader.path, "RoPE scaling type '" + type + "' is not supported for " + config.architecture_name +
                        " (phirun build converts no scaling" +
                        (config.architecture == HfArchitecture::Phi3 ? std::string(", or longrope") : std::string()) +
                        ")");
}

}  // namespace

std::string supported_architectures() {
  return "GemmaForCausalLM, LlamaForCausalLM, MistralForCausalLM, Phi3ForCausalLM, Qwen2ForCausalLM";
}

int64_t HfConfig::rotary_dims() const { return int64_t(partial_rotary_factor * double(n_heads * head_dim)) / n_heads; }

HfConfig parse_hf_config(const std::string& json_text, const std::string& path) {
  Json json;
  try {
    json = Json::parse(json_text);
  } catch (const Json::exception& error) {
    fail(path, std::string("not valid JSON: ") + error.what());
  }
  if (!json.is_object()) fail(path, "not a JSON object");
  const Reader reader{json, path};

  HfConfig config;
  config.path = path;
  if (const Json* architectures = reader.find("architectures")) {
    if (!architectures->is_array() || architectures->empty() || !(*architectures)[0].is_string())
      fail(path, "key 'architectures' must be a list of names");
    config.architecture_name = (*architectures)[0].get<std::string>();
  } else if (const Json* model_type = reader.find("model_type"); model_type && model_type->is_string()) {
    const std::string type = model_type->get<std::string>();
    config.architecture_name = type == "llama"     ? "LlamaForCausalLM"
                               : type == "mistral" ? "MistralForCausalLM"
                               : type == "phi3"    ? "Phi3ForCausalLM"
                               : type == "qwen2"   ? "Qwen2ForCausalLM"
                               : type == "gemma"   ? "GemmaForCausalLM"
                                                   : type;
  } else {
    fail(path, "neither 'architectures' nor 'model_type' says what the model is");
  }
  // Mistral is Llama with a sliding window: llama.cpp converts it to `llama` too.
  if (config.architecture_name == "LlamaForCausalLM" || config.architecture_name == "MistralForCausalLM") {
    config.architecture = HfArchitecture::Llama;
  } else if (config.architecture_name == "Phi3ForCausalLM") {
    config.architecture = HfArchitecture::Phi3;
  } else if (config.architecture_name == "Qwen2ForCausalLM") {
    config.architecture = HfArchitecture::Qwen2;
    config.qkv_bias = true;  // transformers' Qwen2Attention always has q/k/v biases
  } else if (config.architecture_name == "GemmaForCausalLM") {
    config.architecture = HfArchitecture::Gemma;
  } else {
    fail(path, "unsupported architecture '" + config.architecture_name +
                   "' (phirun build converts: " + supported_architectures() + ")");
  }

  config.hidden_size = reader.positive("hidden_size");
  config.intermediate_size = reader.positive("intermediate_size");
  config.n_layers = reader.positive("num_hidden_layers", 4096);
  config.n_heads = reader.positive("num_attention_heads", 4096);
  config.n_kv_heads = reader.optional_positive("num_key_value_heads", 4096).value_or(config.n_heads);
  config.vocab_size = reader.positive("vocab_size", int64_t(1) << 24);
  config.max_position_embeddings = reader.positive("max_position_embeddings", int64_t(1) << 30);
  config.head_dim = reader.optional_positive("head_dim").value_or(0);
  if (config.head_dim == 0) {
    if (config.hidden_size % config.n_heads != 0)
      fail(path, "num_attention_heads " + std::to_string(config.n_heads) + " does not divide hidden_size " +
                     std::to_string(config.hidden_size));
    config.head_dim = config.hidden_size / config.n_heads;
  }
  if (config.n_heads % config.n_kv_heads != 0)
    fail(path, "num_key_value_heads " + std::to_string(config.n_kv_heads) + " does not divide num_attention_heads " +
                   std::to_string(config.n_heads));
  if (config.head_dim % 2 != 0) fail(path, "head_dim " + std::to_string(config.head_dim) + " must be even for RoPE");
  config.rms_norm_eps = reader.number("rms_norm_eps", config.architecture == HfArchitecture::Phi3 ? 1e-5 : 1e-6);
  if (!(config.rms_norm_eps > 0.0 && config.rms_norm_eps < 1.0)) fail(path, "rms_norm_eps must be in (0, 1)");
  // transformers' defaults: Llama unties the head, Phi-3 too (Phi-4-mini sets it true).
  // Gemma ties by default (GemmaConfig).
  config.tie_word_embeddings = reader.boolean("tie_word_embeddings", config.architecture == HfArchitecture::Gemma);

  for (const char* key : {"attention_bias", "mlp_bias"})
    if (reader.boolean(key, false)) fail(path, std::string("'") + key + "' is true: biases are not supported yet");
  if (config.architecture == HfArchitecture::Gemma) {
    // GemmaConfig turns the legacy "gelu" of the released configs into the tanh approximation.
    for (const char* key : {"hidden_act", "hidden_activation"})
      if (const Json* activation = reader.find(key);
          activation && *activation != "gelu" && *activation != "gelu_pytorch_tanh")
        fail(path, std::string(key) + " " + activation->dump() +
                       " is not supported (Gemma's GeGLU uses \"gelu_pytorch_tanh\")");
  } else if (const Json* activation = reader.find("hidden_act"); activation && *activation != "silu") {
    fail(path, "hidden_act " + activation->dump() + " is not supported (SwiGLU models use \"silu\")");
  }

  config.original_max_position_embeddings =
      reader.optional_positive("original_max_position_embeddings", int64_t(1) << 30).value_or(0);
  read_rope(reader, config);
  if (config.architecture == HfArchitecture::Llama && config.partial_rotary_factor != 1.0)
    fail(path, "partial_rotary_factor is not supported for LlamaForCausalLM");
  if (config.rotary_dims() % 2 != 0 || config.rotary_dims() <= 0)
    fail(path, "partial_rotary_factor gives an odd or empty rotary width " + std::to_string(config.rotary_dims()));
  if (!config.rope_long_factors.empty() && (config.rope_long_factors.size() != size_t(config.rotary_dims() / 2) ||
                                            config.rope_short_factors.size() != size_t(config.rotary_dims() / 2)))
    fail(path, "LongRoPE factor lists must have rotary_dims / 2 = " + std::to_string(config.rotary_dims() / 2) +
                   " entries, found " + std::to_string(config.rope_long_factors.size()) + " and " +
                   std::to_string(config.rope_short_factors.size()));
  if (!config.rope_long_factors.empty() && config.original_max_position_embeddings == 0)
    fail(path, "LongRoPE scaling needs 'original_max_position_embeddings'");
  config.sliding_window = reader.optional_positive("sliding_window", int64_t(1) << 30).value_or(0);
  if (config.architecture_name == "LlamaForCausalLM") config.sliding_window = 0;  // Llama has none
  if (config.architecture == HfArchitecture::Qwen2) {
    // Qwen2 configs carry sliding_window but use it only with use_sliding_window, and then only on
    // the layers from max_window_layers on: a per-layer window phirun does not run.
    if (reader.boolean("use_sliding_window", false))
      fail(path, "use_sliding_window is true: Qwen2's per-layer sliding window is not supported");
    config.sliding_window = 0;
  }
  // transformers masks nothing with a window at least as long as the context (Phi-4-mini's 262144
  // of 131072): the GGUF gets none, as llama.cpp's converter writes it for models without one.
  if (config.sliding_window >= config.max_position_embeddings) config.sliding_window = 0;

  config.bos_token_id = reader.token_id("bos_token_id");
  config.pad_token_id = reader.token_id("pad_token_id");
  if (const Json* eos = reader.find("eos_token_id")) {
    if (eos->is_array()) {
      for (const Json& id : *eos)
        if (id.is_number_integer() && id.get<int64_t>() >= 0) config.eos_token_ids.push_back(id.get<int64_t>());
    } else if (auto id = reader.token_id("eos_token_id")) {
      config.eos_token_ids.push_back(*id);
    }
  }
  return config;
}

HfConfig read_hf_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open (a Hugging Face model folder needs config.json)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_hf_config(text.str(), path);
}

}  // namespace phirun::builder
