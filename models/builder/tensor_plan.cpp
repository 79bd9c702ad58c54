// Checkpoint names -> GGUF names, per architecture, with the shapes the config implies.
#include "models/builder/tensor_plan.h"

#include <stdexcept>

namespace phirun::builder {

int64_t TensorPlan::n_rows() const {
  int64_t rows = 1;
  for (size_t d = 1; d < dims.size(); ++d) rows *= dims[d];
  return rows;
}

int64_t permuted_source_row(int64_t row, int64_t n_rows, int64_t n_heads) {
  const int64_t head_rows = n_rows / n_heads;
  const int64_t head = row / head_rows, local = row % head_rows;
  const int64_t pair = local / 2, side = local % 2;
  return head * head_rows + side * (head_rows / 2) + pair;
}

std::string gguf_architecture(const HfConfig& config) {
  switch (config.architecture) {
    case HfArchitecture::Llama:
      return "llama";
    case HfArchitecture::Phi3:
      return "phi3";
    case HfArchitecture::Qwen2:
      return "qwen2";
    case HfArchitecture::Gemma:
      return "gemma";
  }
  return "llama";
}

std::vector<TensorPlan> plan_tensors(const HfConfig& config) {
  const int64_t hidden = config.hidden_size, ffn = config.intermediate_size;
  const int64_t q_width = config.n_heads * config.head_dim, kv_width = config.n_kv_heads * config.head_dim;
  std::vector<TensorPlan> plans;
  auto add = [&](std::string name, std::vector<int64_t> dims, TensorRole role, std::string source,
                 int64_t permute_heads = 0) {
    plans.push_back({std::move(name), std::move(dims), role, std::move(source), permute_heads, {}});
  };

  add("token_embd.weight", {hidden, config.vocab_size}, TensorRole::TokenEmbedding, "model.embed_tokens.weight");
  if (!config.rope_long_factors.empty()) {
    // llama.cpp's phi3 converter writes the LongRoPE factors once, as two F32 vectors.
    const auto n = int64_t(config.rope_long_factors.size());
    plans.push_back({"rope_factors_long.weight", {n}, TensorRole::Constant, "", 0, config.rope_long_factors});
    plans.push_back({"rope_factors_short.weight", {n}, TensorRole::Constant, "", 0, config.rope_short_factors});
  }
  for (int64_t l = 0; l < config.n_layers; ++l) {
    const std::string block = "blk." + std::to_string(l) + ".";
    const std::string layer = "model.layers." + std::to_string(l) + ".";
    add(block + "attn_norm.weight", {hidden}, TensorRole::Norm, layer + "input_layernorm.weight");
    if (config.separate_projections()) {
      // llama.cpp permutes the Q and K rows of `llama` only: its qwen2 rotates halves (NEOX).
      const bool permute = config.is_llama();
      add(block + "attn_q.weight", {hidden, q_width}, TensorRole::Attention, layer + "self_attn.q_proj.weight",
          permute ? config.n_heads : 0);
      add(block + "attn_k.weight", {hidden, kv_width}, TensorRole::Attention, layer + "self_attn.k_proj.weight",
          permute ? config.n_kv_heads : 0);
      add(block + "attn_v.weight", {hidden, kv_width}, TensorRole::Attention, layer + "self_attn.v_proj.weight");
      if (config.qkv_bias) {
        add(block + "attn_q.bias", {q_width}, TensorRole::Norm, layer + "self_attn.q_proj.bias");
        add(block + "attn_k.bias", {kv_width}, TensorRole::Norm, layer + "self_attn.k_proj.bias");
        add(block + "attn_v.bias", {kv_width}, TensorRole::Norm, layer + "self_attn.v_proj.bias");
      }
    } else {
      add(block + "attn_qkv.weight", {hidden, q_width + 2 * kv_width}, TensorRole::Attention,
          layer + "self_attn.qkv_proj.weight");
    }
    add(block + "attn_output.weight", {q_width, hidden}, TensorRole::Attention, layer + "self_attn.o_proj.weight");
    add(block + "ffn_norm.weight", {hidden}, TensorRole::Norm, layer + "post_attention_layernorm.weight");
    if (config.separate_projections()) {
      add(block + "ffn_gate.weight", {hidden, ffn}, TensorRole::FeedForward, layer + "mlp.gate_proj.weight");
      add(block + "ffn_up.weight", {hidden, ffn}, TensorRole::FeedForward, layer + "mlp.up_proj.weight");
    } else {
      add(block + "ffn_up.weight", {hidden, 2 * ffn}, TensorRole::FeedForward, layer + "mlp.gate_up_proj.weight");
    }
    add(block + "ffn_down.weight", {ffn, hidden}, TensorRole::FeedForward, layer + "mlp.down_proj.weight");
  }
  add("output_norm.weight", {hidden}, TensorRole::Norm, "model.norm.weight");
  if (config.architecture == HfArchitecture::Gemma)
    for (TensorPlan& plan : plans)
      if (plan.name.ends_with("norm.weight")) plan.offset = 1.0f;
  if (!config.tie_word_embeddings)
    add("output.weight", {hidden, config.vocab_size}, TensorRole::OutputHead, "lm_head.weight");
  return plans;
}

}  // namespace phirun::builder
