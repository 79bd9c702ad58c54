// The Llama-family forward pass (SmolLM2, Llama, Phi-3): pre-norm decoder blocks of grouped-query
// attention with RoPE and a SwiGLU MLP, written once against the op interface. Phi-3 differs only
// in config fields: fused QKV and gate-up matrices, RoPE over halves of each head.
#pragma once

#include <span>
#include <vector>

#include "kernels/ops.h"
#include "models/model_config.h"

namespace phirun {

enum class LogitsFor { LastToken, EveryToken };

// One sequence's share of a batched forward pass: its new tokens, the position of the first,
// and its own KV cache (one view per layer).
struct SequenceChunk {
  std::span<const int32_t> tokens;
  int64_t start_position = 0;
  std::span<const KvLayerView> cache;
  bool want_logits = true;
  LogitsFor which = LogitsFor::LastToken;
};

class LlamaForward {
 public:
  // Prompts longer than max_chunk rows run in chunks, bounding the scratch memory.
  LlamaForward(const ModelConfig& config, const ModelWeights& weights, Ops& ops, int64_t max_chunk = 256);

  // Runs `tokens`, at positions start_position onwards, through the model: their keys and values
  // go into `cache` (one view per layer) and `logits` receives [vocab] (LastToken) or
  // [tokens.size()][vocab] (EveryToken). The caller checks that the positions fit the cache.
  void forward(std::span<const int32_t> tokens, int64_t start_position, std::span<const KvLayerView> cache,
               LogitsFor which, float* logits);

  // Several sequences in one pass: the matmuls run over the rows of all of them together, RoPE,
  // the cache writes and attention per sequence (each sees only its own cache, so sequences of
  // different lengths need no padding or mask). `logits` receives, chunk after chunk, the rows
  // each wants: [vocab] for LastToken, [tokens.size()][vocab] for EveryToken, none without
  // want_logits. The caller checks that positions fit the caches.
  void forward_batch(std::span<const SequenceChunk> chunks, float* logits);

 private:
  // Rows [offset, offset + rows) of one chunk, as they go through one pass.
  struct Piece {
    size_t chunk;
    int64_t offset;
    int64_t rows;
  };
  // One pass over at most max_chunk rows; advances `logits` past the rows it wrote.
  void forward_pass(std::span<const SequenceChunk> chunks, std::span<const Piece> pieces, float*& logits);

  const ModelConfig& config_;
  const ModelWeights& weights_;
  Ops& ops_;
  int64_t max_chunk_;
  // Scratch activations, sized for max_chunk rows.
  std::vector<float> residual_, normed_, q_, k_, v_, attention_out_, projected_, gate_, up_;
  std::vector<float> fused_;  // the output of a fused QKV or gate-up matmul, before it is split
  std::vector<int32_t> pass_ids_;
};

}  // namespace phirun
