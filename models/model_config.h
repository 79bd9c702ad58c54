// The hyper-parameters and weight views of a decoder-only transformer, as the forward pass
// needs them. Filled and validated by the loader (runtime/); plain data here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace phirun {

// What a LongRoPE model (Phi-3-128k, Phi-3.5-mini, Phi-4-mini) does when the sequence first
// reaches past original_max_position_embeddings, where it switches from the short to the long
// factors. See README ("LongRoPE and the KV cache").
enum class LongRopePolicy {
  // As transformers' Phi-3 generate (prepare_inputs_for_generation): the first call that reaches
  // past the original context with at most that many positions cached (all rotated with the
  // short factors) drops the cache and runs the whole sequence again under the long factors.
  Reprefill,
  // As a bare forward call with a cache: the new tokens rotate with the long factors, the keys
  // already cached keep their short rotation (no recomputation; the model sees a mix).
  KeepCache,
};

struct ModelConfig {
  std::string architecture;  // GGUF general.architecture, e.g. "llama"
  int64_t n_layers = 0;
  int64_t hidden_size = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn_size = 0;
  int64_t vocab_size = 0;      // rows of the embedding (and of the output head)
  int64_t context_length = 0;  // trained maximum
  float rms_eps = 1e-5f;
  RopeParams rope;  // frequency_factors unset: the forward pass picks short or long below
  // Sliding-window attention (Phi-3-mini-4k, Mistral): each query sees its last `sliding_window`
  // keys, itself included. 0: full causal attention.
  int64_t sliding_window = 0;
  // LongRoPE: rotary_dims / 2 factors each; empty for plain RoPE. A forward call whose last
  // position reaches past rope_original_context uses the long factors, else the short ones (as
  // transformers' longrope_frequency_update); both scale cos and sin by rope_attention_factor.
  std::vector<float> rope_factors_short, rope_factors_long;
  int64_t rope_original_context = 0;
  float rope_attention_factor = 1.0f;
  // Phi-3 stores Q, K and V as one matrix and gate and up as another (gate rows first): one
  // matmul each, split afterwards. Llama keeps them apart.
  bool fused_qkv = false;
  bool fused_gate_up = false;
  // Qwen2 adds a bias to each of the Q, K and V projections (LayerWeights::bq, bk, bv).
  bool qkv_bias = false;
  // Gemma: the MLP is GeGLU (gelu tanh) instead of SwiGLU, and the embedding rows are multiplied
  // by embedding_scale = sqrt(hidden) (1: none). Its RMSNorm weight + 1 is folded into the
  // stored norm weights at conversion, as llama.cpp's converter does.
  bool gelu_mlp = false;
  float embedding_scale = 1.0f;
};

struct LayerWeights {
  std::vector<float> attn_norm;   // [hidden]
  MatrixView wq, wk, wv, wo;      // [n_heads*head_dim][hidden], [n_kv*head_dim][hidden] x2, [hidden][n_heads*head_dim]
  MatrixView wqkv;                // fused_qkv: [(n_heads + 2*n_kv)*head_dim][hidden], Q rows then K then V
  std::vector<float> bq, bk, bv;  // qkv_bias: [n_heads*head_dim], [n_kv*head_dim] x2; else empty
  std::vector<float> ffn_norm;    // [hidden]
  MatrixView w_gate, w_up;        // [ffn][hidden]
  MatrixView w_gate_up;           // fused_gate_up: [2*ffn][hidden], gate rows then up rows
  MatrixView w_down;              // [hidden][ffn]
};

struct ModelWeights {
  MatrixView token_embedding;  // [vocab][hidden]
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;
  MatrixView output;  // [vocab][hidden]; the embedding itself when tied
};

}  // namespace phirun
