// Llama forward pass. Reads top to bottom like the paper:
//   x = embed(tokens)
//   for each layer:  x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
//                    x += Wdown · (silu(Wgate·norm(x)) * Wup·norm(x))
//   logits = Wout · norm(x)
#include "models/llama.h"

#include <algorithm>
#include <cmath>

namespace phirun {

int64_t kv_positions_needed(const ModelConfig& config, int64_t max_positions) {
  if (config.sliding_window <= 0) return max_positions;
  return std::min(max_positions, config.sliding_window + LlamaForward::kDefaultChunk - 1);
}

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
  const SequenceChunk chunk{tokens, start_position, cache, logits != nullptr, which};
  forward_batch(std::span<const SequenceChunk>(&chunk, 1), logits);
}

void LlamaForward::forward_batch(std::span<const SequenceChunk> chunks, float* logits) {
  // Cut the rows of all chunks, in order, into passes of at most max_chunk rows.
  std::vector<Piece> pass;
  int64_t pass_rows = 0;
  for (size_t c = 0; c < chunks.size(); ++c) {
    const auto n = int64_t(chunks[c].tokens.size());
    for (int64_t offset = 0; offset < n;) {
      const int64_t rows = std::min(n - offset, max_chunk_ - pass_rows);
      pass.push_back({c, offset, rows});
      offset += rows;
      pass_rows += rows;
      if (pass_rows == max_chunk_) {
        forward_pass(chunks, pass, logits);
        pass.clear();
        pass_rows = 0;
      }
    }
  }
  if (!pass.empty()) forward_pass(chunks, pass, logits);
}

RopeParams LlamaForward::rope_for(const SequenceChunk& chunk) const {
  RopeParams rope = config_.rope;
  if (config_.rope_factors_short.empty()) return rope;
  // transformers decides once per forward call from its last position: every token of a call
  // that reaches past the original context rotates with the long factors, earlier ones short.
  const int64_t end = chunk.start_position + int64_t(chunk.tokens.size());
  const bool long_factors = end > config_.rope_original_context;
  rope.frequency_factors = long_factors ? config_.rope_factors_long.data() : config_.rope_factors_short.data();
  rope.attention_factor = config_.rope_attention_factor;
  return rope;
}

void LlamaForward::forward_pass(std::span<const SequenceChunk> chunks, std::span<const Piece> pieces, float*& logits) {
  const int64_t hidden = config_.hidden_size;
  const int64_t ffn = config_.ffn_size;
  const int64_t q_width = config_.n_heads * config_.head_dim;
  const int64_t kv_width = config_.n_kv_heads * config_.head_dim;
  const AttentionParams attention{config_.n_heads, config_.head_dim, float(1.0 / std::sqrt(double(config_.head_dim))),
                                  config_.sliding_window};
  float* x = residual_.data();

  pass_ids_.clear();
  for (const Piece& piece : pieces) {
    const auto tokens = chunks[piece.chunk].tokens.subspan(size_t(piece.offset), size_t(piece.rows));
    pass_ids_.insert(pass_ids_.end(), tokens.begin(), tokens.end());
  }
  const auto n = int64_t(pass_ids_.size());

  ops_.embed(weights_.token_embedding, pass_ids_, x);
  if (config_.embedding_scale != 1.0f)
    for (int64_t i = 0; i < n * hidden; ++i) x[i] *= config_.embedding_scale;
  for (int64_t l = 0; l < config_.n_layers; ++l) {
    const LayerWeights& layer = weights_.layers[size_t(l)];

    // Attention block: projections over every row, then each sequence against its own cache.
    ops_.rms_norm(x, layer.attn_norm.data(), n, hidden, config_.rms_eps, normed_.data());
    if (config_.fused_qkv) {
      // One matmul, then each row [q | k | v] is split into the three activations.
      const int64_t width = q_width + 2 * kv_width;
      ops_.matmul(layer.wqkv, normed_.data(), n, fused_.data());
      for (int64_t t = 0; t < n; ++t) {
        const float* fused_row = fused_.data() + t * width;
        std::copy_n(fused_row, q_width, q_.data() + t * q_width);
        std::copy_n(fused_row + q_width, kv_width, k_.data() + t * kv_width);
        std::copy_n(fused_row + q_width + kv_width, kv_width, v_.data() + t * kv_width);
      }
    } else {
      const MatrixView* weights[] = {&layer.wq, &layer.wk, &layer.wv};
      float* outputs[] = {q_.data(), k_.data(), v_.data()};
      ops_.matmul_group(weights, normed_.data(), n, outputs);
    }
    if (config_.qkv_bias) {
      for (int64_t t = 0; t < n; ++t) {
        ops_.add(q_.data() + t * q_width, layer.bq.data(), q_width);
        ops_.add(k_.data() + t * kv_width, layer.bk.data(), kv_width);
        ops_.add(v_.data() + t * kv_width, layer.bv.data(), kv_width);
      }
    }
    int64_t row = 0;
    for (const Piece& piece : pieces) {
      const SequenceChunk& chunk = chunks[piece.chunk];
      const int64_t position = chunk.start_position + piece.offset;
      float* q = q_.data() + row * q_width;
      float* k = k_.data() + row * kv_width;
      const float* v = v_.data() + row * kv_width;
      const RopeParams rope = rope_for(chunk);
      ops_.rope(q, piece.rows, config_.n_heads, config_.head_dim, position, rope);
      ops_.rope(k, piece.rows, config_.n_kv_heads, config_.head_dim, position, rope);
      ops_.store_kv(chunk.cache[size_t(l)], k, v, piece.rows, position);
      ops_.attention(q, piece.rows, position, chunk.cache[size_t(l)], attention, attention_out_.data() + row * q_width);
      row += piece.rows;
    }
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
      const MatrixView* weights[] = {&layer.w_gate, &layer.w_up};
      float* outputs[] = {gate_.data(), up_.data()};
      ops_.matmul_group(weights, normed_.data(), n, outputs);
      if (config_.gelu_mlp) {
        ops_.geglu(gate_.data(), up_.data(), n * ffn, gate_.data());
      } else {
        ops_.swiglu(gate_.data(), up_.data(), n * ffn, gate_.data());
      }
    }
    ops_.matmul(layer.w_down, gate_.data(), n, projected_.data());
    ops_.add(x, projected_.data(), n * hidden);
  }

  // The output head over the rows that want logits, gathered into projected_ (free by now) so
  // that one matmul serves every sequence. An earlier piece of a long prompt wants none: only
  // its keys and values.
  int64_t wanted = 0;
  int64_t row = 0;
  for (const Piece& piece : pieces) {
    const SequenceChunk& chunk = chunks[piece.chunk];
    int64_t first = piece.rows;  // the first row of this piece that is wanted: none
    if (chunk.want_logits && chunk.which == LogitsFor::EveryToken) {
      first = 0;
    } else if (chunk.want_logits && piece.offset + piece.rows == int64_t(chunk.tokens.size())) {
      first = piece.rows - 1;
    }
    for (int64_t r = first; r < piece.rows; ++r, ++wanted)
      std::copy_n(x + (row + r) * hidden, hidden, projected_.data() + wanted * hidden);
    row += piece.rows;
  }
  if (wanted == 0) return;
  ops_.rms_norm(projected_.data(), weights_.output_norm.data(), wanted, hidden, config_.rms_eps, normed_.data());
  ops_.matmul(weights_.output, normed_.data(), wanted, logits);
  logits += wanted * config_.vocab_size;
}

}  // namespace phirun
