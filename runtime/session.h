// One sequence being generated: its KV cache (sized to the context asked for, never to the
// model's maximum), its position, and the forward pass over the model's weights.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "models/llama.h"
#include "runtime/model.h"

namespace phirun {

struct SessionOptions {
  int64_t context_length = 0;            // 0: min(model's trained context, 4096)
  TensorType kv_type = TensorType::F16;  // F16 or F32
  // Int16 (the default): two int8 planes per activation block, integer dot products, error about
  // 1/65000 of a block's largest value (fragile models keep their answers); Float: exact float
  // math on the weights (exact comparisons); Int8: one plane (fastest, may change greedy text).
  ActivationPrecision activations = ActivationPrecision::Int16;
  LongRopePolicy long_rope = LongRopePolicy::Reprefill;
};

class Session {
 public:
  // Throws std::runtime_error when the context asked for is out of range.
  Session(const Model& model, const SessionOptions& options = {});

  // Runs `tokens` after those already in the cache; returns the logits ([vocab]) of the last.
  // Throws when the tokens would not fit in the context or an id is outside the vocabulary.
  std::span<const float> append(std::span<const int32_t> tokens);
  // Same, but returns the logits of every token ([tokens.size()][vocab]).
  std::vector<float> append_all_logits(std::span<const int32_t> tokens);

  // Forgets everything after the first `n_tokens` tokens (keys and values before stay valid).
  // A sliding-window session can rewind only as far as its ring still holds the keys needed.
  void rewind_to(int64_t n_tokens);

  int64_t position() const { return position_; }
  int64_t context_length() const { return context_length_; }
  uint64_t kv_cache_bytes() const { return kv_bytes_; }
  const Model& model() const { return model_; }

 private:
  void check_fits(std::span<const int32_t> tokens) const;

  const Model& model_;
  int64_t context_length_;
  int64_t position_ = 0;
  int64_t kv_capacity_ = 0;
  LongRopePolicy long_rope_;
  // Reprefill keeps the tokens, to run them again under the long factors.
  std::vector<int32_t> history_;
  bool cache_has_short_rope_ = false;  // some cached keys were rotated with the short factors
  // Reprefill: when this call crosses the original context with short-rotated keys cached, the
  // whole history goes through again (positions from 0) instead of only the new tokens.
  std::span<const int32_t> tokens_to_run(std::span<const int32_t> tokens, int64_t& start);
  void ran(std::span<const int32_t> tokens);  // positions the cache holds: context_length_, or a sliding window's ring
  // Left uninitialized: a position is always written before it is read, and untouched pages of
  // a large context cost no memory until used.
  std::unique_ptr<uint8_t[]> kv_storage_;
  uint64_t kv_bytes_ = 0;
  std::vector<KvLayerView> kv_layers_;
  CpuOps ops_;
  LlamaForward forward_;
  std::vector<float> logits_;
};

}  // namespace phirun
