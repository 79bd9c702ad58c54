// Session: KV cache storage and the bounds checks around each forward call.
#include "runtime/session.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace phirun {

namespace {

int64_t choose_context(const Model& model, int64_t asked) {
  const int64_t trained = model.config().context_length;
  if (asked == 0) return std::min<int64_t>(trained, 4096);
  if (asked < 0 || asked > trained)
    throw std::runtime_error("context length " + std::to_string(asked) +
                             " is out of range: this model was trained for " + std::to_string(trained) + " positions");
  return asked;
}

}  // namespace

Session::Session(const Model& model, const SessionOptions& options)
    : model_(model),
      context_length_(choose_context(model, options.context_length)),
      long_rope_(options.long_rope),
      ops_(model.thread_pool(), options.activations),
      forward_(model.config(), model.weights(), ops_) {
  if (options.kv_type != TensorType::F16 && options.kv_type != TensorType::F32)
    throw std::runtime_error("the KV cache type must be F16 or F32");
  const ModelConfig& config = model.config();
  const uint64_t element_bytes = options.kv_type == TensorType::F16 ? 2 : 4;
  // A sliding-window model keeps only a ring of the last positions (kv_positions_needed).
  kv_capacity_ = kv_positions_needed(config, context_length_);
  const uint64_t half_layer_bytes =
      uint64_t(config.n_kv_heads) * uint64_t(kv_capacity_) * uint64_t(config.head_dim) * element_bytes;
  kv_bytes_ = 2 * half_layer_bytes * uint64_t(config.n_layers);
  model.check_kv_memory(double(kv_capacity_) * double(2 * config.n_layers * config.n_kv_heads) *
                            double(config.head_dim) * double(element_bytes),
                        "a KV cache of " + std::to_string(kv_capacity_) + " tokens");
  kv_storage_.reset(new uint8_t[kv_bytes_]);
  for (int64_t l = 0; l < config.n_layers; ++l) {
    uint8_t* base = kv_storage_.get() + 2 * half_layer_bytes * uint64_t(l);
    kv_layers_.push_back(
        {options.kv_type, config.n_kv_heads, kv_capacity_, config.head_dim, base, base + half_layer_bytes});
  }
  logits_.resize(size_t(config.vocab_size));
}

void Session::check_fits(std::span<const int32_t> tokens) const {
  if (int64_t(tokens.size()) > context_length_ - position_)
    throw std::runtime_error(std::to_string(position_ + int64_t(tokens.size())) +
                             " tokens do not fit in the context of " + std::to_string(context_length_) + " (" +
                             std::to_string(position_) + " already in it)");
  for (int32_t id : tokens)
    if (id < 0 || id >= model_.config().vocab_size)
      throw std::runtime_error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                               std::to_string(model_.config().vocab_size));
}

std::span<const int32_t> Session::tokens_to_run(std::span<const int32_t> tokens, int64_t& start) {
  start = position_;
  const ModelConfig& config = model_.config();
  if (long_rope_ != LongRopePolicy::Reprefill || config.rope_factors_short.empty()) return tokens;
  history_.resize(size_t(position_));
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  // transformers' condition: the sequence reaches past the original context and the cache holds
  // at most that many positions, every one rotated with the short factors.
  const bool crosses = position_ + int64_t(tokens.size()) > config.rope_original_context;
  if (crosses && cache_has_short_rope_ && position_ > 0 && position_ <= config.rope_original_context) {
    start = 0;
    return history_;
  }
  return tokens;
}

void Session::ran(std::span<const int32_t> tokens) {
  position_ += int64_t(tokens.size());
  // LlamaForward rotates a call with the short factors when it ends within the original context.
  if (!model_.config().rope_factors_short.empty() && position_ <= model_.config().rope_original_context)
    cache_has_short_rope_ = true;
  if (position_ > model_.config().rope_original_context && long_rope_ == LongRopePolicy::Reprefill)
    cache_has_short_rope_ = false;  // the call ran (or re-ran) everything under the long factors
}

std::span<const float> Session::append(std::span<const int32_t> tokens) {
  if (tokens.empty()) throw std::runtime_error("no tokens to append");
  check_fits(tokens);
  int64_t start = 0;
  const std::span<const int32_t> run = tokens_to_run(tokens, start);
  forward_.forward(run, start, kv_layers_, LogitsFor::LastToken, logits_.data());
  ran(tokens);
  return logits_;
}

std::vector<float> Session::append_all_logits(std::span<const int32_t> tokens) {
  if (tokens.empty()) throw std::runtime_error("no tokens to append");
  check_fits(tokens);
  const int64_t vocab = model_.config().vocab_size;
  int64_t start = 0;
  const std::span<const int32_t> run = tokens_to_run(tokens, start);
  std::vector<float> logits(run.size() * size_t(vocab));
  forward_.forward(run, start, kv_layers_, LogitsFor::EveryToken, logits.data());
  // A re-prefill computed the history's rows too: keep the new tokens' rows.
  logits.erase(logits.begin(), logits.end() - int64_t(tokens.size()) * vocab);
  ran(tokens);
  std::copy_n(logits.end() - model_.config().vocab_size, model_.config().vocab_size, logits_.begin());
  return logits;
}

void Session::rewind_to(int64_t n_tokens) {
  if (n_tokens < 0 || n_tokens > position_)
    throw std::runtime_error("cannot rewind to " + std::to_string(n_tokens) + " tokens: the session holds " +
                             std::to_string(position_));
  // A ring must still hold the keys that position n_tokens attends.
  const int64_t window = model_.config().sliding_window;
  if (window > 0 && n_tokens > 0 && std::max<int64_t>(0, n_tokens - window + 1) < position_ - kv_capacity_)
    throw std::runtime_error("cannot rewind a sliding-window session from " + std::to_string(position_) + " to " +
                             std::to_string(n_tokens) + " tokens: its KV ring of " + std::to_string(kv_capacity_) +
                             " positions no longer holds the keys they attend");
  position_ = n_tokens;
  if (n_tokens == 0) cache_has_short_rope_ = false;
}

}  // namespace phirun
