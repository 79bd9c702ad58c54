// Llama forward pass. Reads top to bottom like the paper:
//   x = embed(tokens)
//   for each layer:  x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
//                    x += Wdown · (silu(Wgate·norm(x)) * Wup·norm(x))
//   logits = Wout · norm(x)
#include "models/llama.h"

#include <algorithm>
#include <cmath>

namespace phirun {

LlamaForward::LlamaForward(const ModelConfig& config, const ModelWeights& weights, Ops& ops, int64_t max_chunk)
    : config_(config), weights_(weights), ops_(ops), max_chunk_(max_chunk) {
  const auto rows = size_t(max_chunk_);
  residual_.resize(rows * size_t(config.hidden_size));
  normed_.resize(rows * size_t(config.hidden_size));
  q_.resize(rows * size_t(config.n_heads * config.head_dim));
  k_.resize(rows * size_t(config.n_kv_heads * config.head_dim));
  v_.resize(rows * size_t(config.n_kv_heads * config.head_dim));
  attention_out_.resize(rows * size_t(config.n_heads * config.head_dim));
  projected_.resize(rows * size_t(config.hidden_size));
  gate_.resize(rows * size_t(config.ffn_size));
  up_.resize(rows * size_t(config.ffn_size));
  size_t fused_width = 0;
  if (config.fused_qkv) fused_width = size_t((config.n_heads + 2 * config.n_kv_heads) * config.head_dim);
  if (config.fused_gate_up) fused_width = std::max(fused_width, size_t(2 * config.ffn_size));
  fused_.resize(rows * fused_width);
}

void LlamaForward::forward(std::span<const int32_t> tokens, int64_t start_position, std::span<const KvLayerView> cache,
                           LogitsFor which, float* logits) {
  for (size_t begin = 0; begin < tokens.size(); begin += size_t(max_chunk_)) {
    const size_t n = std::min(tokens.size() - begin, size_t(max_chunk_));
    const bool last_chunk = begin + n == tokens.size();
    if (which == LogitsFor::EveryToken) {
      forward_chunk(tokens.subspan(begin, n), start_position + int64_t(begin), cache, which,
                    logits + begin * size_t(config_.vocab_size));
    } else {
      forward_chunk(tokens.subspan(begin, n), start_position + int64_t(begin), cache, which,
                    last_chunk ? logits : nullptr);
    }
  }
}

void LlamaForward::forward_chunk(std::span<const int32_t> tokens, int64_t start_position,
                                 std::span<const KvLayerView> cache, LogitsFor which, float* logits) {
  const auto n = int64_t(tokens.size());
  const int64_t hidden = config_.hidden_size;
  const int64_t ffn = config_.ffn_size;
  const AttentionParams attention{config_.n_heads, config_.head_dim, float(1.0 / std::sqrt(double(config_.head_dim)))};
  float* x = residual_.data();

  ops_.embed(weights_.token_embedding, tokens, x);
  for (int64_t l = 0; l < config_.n_layers; ++l) {
    const LayerWeights& layer = weights_.layers[size_t(l)];

    // Attention block.
    ops_.rms_norm(x, layer.attn_norm.data(), n, hidden, config_.rms_eps, normed_.data());
    if (config_.fused_qkv) {
      // One matmul, then each row [q | k | v] is split into the three activations.
      const int64_t q_width = config_.n_heads * config_.head_dim, kv_width = config_.n_kv_heads * config_.head_dim;
      const int64_t width = q_width + 2 * kv_width;
      ops_.matmul(layer.wqkv, normed_.data(), n, fused_.data());
      for (int64_t t = 0; t < n; ++t) {
        const float* row = fused_.data() + t * width;
        std::copy_n(row, q_width, q_.data() + t * q_width);
        std::copy_n(row + q_width, kv_width, k_.data() + t * kv_width);
        std::copy_n(row + q_width + kv_width, kv_width, v_.data() + t * kv_width);
      }
    } else {
      ops_.matmul(layer.wq, normed_.data(), n, q_.data());
      ops_.matmul(layer.wk, normed_.data(), n, k_.data());
      ops_.matmul(layer.wv, normed_.data(), n, v_.data());
    }
    ops_.rope(q_.data(), n, config_.n_heads, config_.head_dim, start_position, config_.rope);
    ops_.rope(k_.data(), n, config_.n_kv_heads, config_.head_dim, start_position, config_.rope);
    ops_.store_kv(cache[size_t(l)], k_.data(), v_.data(), n, start_position);
    ops_.attention(q_.data(), n, start_position, cache[size_t(l)], attention, attention_out_.data());
    ops_.matmul(layer.wo, attention_out_.data(), n, projected_.data());
    ops_.add(x, projected_.data(), n * hidden);

    // MLP block.
    ops_.rms_norm(x, layer.ffn_norm.data(), n, hidden, config_.rms_eps, normed_.data());
    if (config_.fused_gate_up) {
      // Each row of the fused output is [gate | up]: SwiGLU row by row into gate_.
      ops_.matmul(layer.w_gate_up, normed_.data(), n, fused_.data());
      for (int64_t t = 0; t < n; ++t)
        ops_.swiglu(fused_.data() + t * 2 * ffn, fused_.data() + t * 2 * ffn + ffn, ffn, gate_.data() + t * ffn);
    } else {
      ops_.matmul(layer.w_gate, normed_.data(), n, gate_.data());
      ops_.matmul(layer.w_up, normed_.data(), n, up_.data());
      ops_.swiglu(gate_.data(), up_.data(), n * ffn, gate_.data());
    }
    ops_.matmul(layer.w_down, gate_.data(), n, projected_.data());
    ops_.add(x, projected_.data(), n * hidden);
  }
  if (!logits) return;  // an earlier chunk of a prompt: only its keys and values were wanted

  // The output head: every row, or only the last one.
  const int64_t first = which == LogitsFor::EveryToken ? 0 : n - 1;
  const int64_t rows = n - first;
  ops_.rms_norm(x + first * hidden, weights_.output_norm.data(), rows, hidden, config_.rms_eps, normed_.data());
  ops_.matmul(weights_.output, normed_.data(), rows, logits);
}

}  // namespace phirun
