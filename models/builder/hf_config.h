// A Hugging Face config.json as the builder needs it: the architecture, its dimensions, RoPE and
// the special token ids, checked for presence, type and consistency. Both the transformers 4
// spellings (rope_theta, rope_scaling) and the transformers 5 ones (rope_parameters) are read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace phirun::builder {

enum class HfArchitecture { Llama, Phi3, Qwen2, Gemma };

struct HfConfig {
  std::string path;               // for error messages
  std::string architecture_name;  // "LlamaForCausalLM", "Phi3ForCausalLM"
  HfArchitecture architecture = HfArchitecture::Llama;

  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;

  // Qwen2: biases on the Q, K and V projections (attention_bias is implied by the architecture).
  bool qkv_bias = false;

  // Phi-3 family.
  double partial_rotary_factor = 1.0;
  int64_t original_max_position_embeddings = 0;  // 0: not given
  int64_t sliding_window = 0;                    // 0: none
  std::string rope_scaling_type;                 // "" (none) or "longrope"
  std::vector<float> rope_long_factors, rope_short_factors;

  std::optional<int64_t> bos_token_id, pad_token_id;
  std::vector<int64_t> eos_token_ids;  // config.json's eos_token_id, an int or a list

  // Dimensions of each head that RoPE rotates: head_dim * partial_rotary_factor, as llama.cpp
  // computes it (int(factor * hidden) / heads).
  int64_t rotary_dims() const;
  bool is_llama() const { return architecture == HfArchitecture::Llama; }
  // Q, K, V and gate, up as separate matrices (Llama, Mistral, Qwen2), not fused as Phi-3's.
  bool separate_projections() const { return architecture != HfArchitecture::Phi3; }
};

// Architectures `phirun build` knows, as config.json names them.
std::string supported_architectures();

// Throws std::runtime_error("PATH: problem") for a missing file, bad JSON, an unsupported
// architecture (the message lists the supported ones), a missing or mistyped key, inconsistent
// dimensions or a feature the builder cannot convert (attention or MLP biases, an unknown RoPE
// scaling, an activation other than SiLU).
HfConfig read_hf_config(const std::string& path);
HfConfig parse_hf_config(const std::string& json_text, const std::string& path);

}  // namespace phirun::builder
