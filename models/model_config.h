// The hyper-parameters and weight views of a decoder-only transformer, as the forward pass
// needs them. Filled and validated by the loader (runtime/); plain data here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace phirun {

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
  RopeParams rope;
  // Phi-3 stores Q, K and V as one matrix and gate and up as another (gate rows first): one
  // matmul each, split afterwards. Llama keeps them apart.
  bool fused_qkv = false;
  bool fused_gate_up = false;
};

struct LayerWeights {
  std::vector<float> attn_norm;  // [hidden]
  MatrixView wq, wk, wv, wo;     // [n_heads*head_dim][hidden], [n_kv*head_dim][hidden] x2, [hidden][n_heads*head_dim]
  MatrixView wqkv;               // fused_qkv: [(n_heads + 2*n_kv)*head_dim][hidden], Q rows then K then V
  std::vector<float> ffn_norm;   // [hidden]
  MatrixView w_gate, w_up;       // [ffn][hidden]
  MatrixView w_gate_up;          // fused_gate_up: [2*ffn][hidden], gate rows then up rows
  MatrixView w_down;             // [hidden][ffn]
};

struct ModelWeights {
  MatrixView token_embedding;  // [vocab][hidden]
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;
  MatrixView output;  // [vocab][hidden]; the embedding itself when tied
};

}  // namespace phirun
