// What goes into the GGUF file, tensor by tensor: the GGUF name and shape, the role (which decides
// its precision) and where its values come from in a Hugging Face checkpoint, for each supported
// architecture. Llama's Q and K rows are permuted as llama.cpp's converter does; Phi-3 keeps its
// fused qkv_proj and gate_up_proj, as llama.cpp's `phi3` architecture does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/builder/hf_config.h"

namespace phirun::builder {

enum class TensorRole {
  TokenEmbedding,  // token_embd.weight (also the output head when tied)
  OutputHead,      // output.weight
  Attention,       // attn_q/k/v/qkv/output
  FeedForward,     // ffn_gate/up/down (ffn_up holds gate and up when fused)
  Norm,            // every 1-D weight: kept F32
  Constant,        // values made by the builder (LongRoPE factors): kept F32
};

struct TensorPlan {
  std::string name;           // GGUF name, "blk.3.attn_q.weight"
  std::vector<int64_t> dims;  // GGUF order: dims[0] is the row length
  TensorRole role = TensorRole::Norm;
  std::string source;  // checkpoint tensor name ("" for constants)
  // Llama Q/K: rows of each head reordered so RoPE pairs are adjacent (0 = no permutation).
  int64_t permute_heads = 0;
  std::vector<float> constant;  // role Constant only
  // Added to every value as it is read: Gemma's RMSNorm multiplies by (1 + weight), and llama.cpp's
  // converter stores 1 + weight.
  float offset = 0.0f;

  int64_t row_length() const { return dims[0]; }
  int64_t n_rows() const;
  int64_t n_elements() const { return row_length() * n_rows(); }
  bool is_matrix() const { return dims.size() == 2 && role != TensorRole::Norm && role != TensorRole::Constant; }
};

// Every tensor of the model described by `config`, in llama.cpp's order (embedding, then per layer,
// then output norm and head).
std::vector<TensorPlan> plan_tensors(const HfConfig& config);

// Row `row` of a permuted tensor comes from source row permuted_source_row(row): within each head
// of head_rows rows, output row 2i + s is input row s * head_rows / 2 + i.
int64_t permuted_source_row(int64_t row, int64_t n_rows, int64_t n_heads);

// general.architecture of the converted model: "llama" or "phi3".
std::string gguf_architecture(const HfConfig& config);

}  // namespace phirun::builder
