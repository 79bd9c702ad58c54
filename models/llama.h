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

class LlamaForward {
 public:
  // Prompts longer than max_chunk rows run in chunks, bounding the scratch memory.
  LlamaForward(const ModelConfig& config, const ModelWeights& weights, Ops& ops, int64_t max_chunk = 256);

  // Runs `tokens`, at positions start_position onwards, through the model: their keys and values
  // go into `cache` (one view per layer) and `logits` receives [vocab] (LastToken) or
  // [tokens.size()][vocab] (EveryToken). The caller checks that the positions fit the cache.
  void forward(std::span<const int32_t> tokens, int64_t start_position, std::span<const KvLayerView> cache,
               LogitsFor which, float* logits);

 private:
  void forward_chunk(std::span<const int32_t> tokens, int64_t start_position, std::span<const KvLayerView> cache,
                     LogitsFor which, float* logits);

  const ModelConfig& config_;
  const ModelWeights& weights_;
  Ops& ops_;
  int64_t max_chunk_;
  // Scratch activations, sized for max_chunk rows.
  std::vector<float> residual_, normed_, q_, k_, v_, attention_out_, projected_, gate_, up_;
  std::vector<float> fused_;  // the output of a fused QKV or gate-up matmul, before it is split
};

}  // namespace phirun
