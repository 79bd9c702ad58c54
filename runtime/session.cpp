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
      ops_(model.thread_pool(), options.activations),
      forward_(model.config(), model.weights(), ops_) {
  if (options.kv_type != TensorType::F16 && options.kv_type != TensorType::F32)
    throw std::runtime_error("the KV cache type must be F16 or F32");
  const ModelConfig& config = model.config();
  const uint64_t element_bytes = options.kv_type == TensorType::F16 ? 2 : 4;
  const uint64_t half_layer_bytes =
      uint64_t(config.n_kv_heads) * uint64_t(context_length_) * uint64_t(config.head_dim) * element_bytes;
  kv_bytes_ = 2 * half_layer_bytes * uint64_t(config.n_layers);
  model.check_kv_memory(double(context_length_) * double(2 * config.n_layers * config.n_kv_heads) *
                            double(config.head_dim) * double(element_bytes),
                        "a KV cache of " + std::to_string(context_length_) + " tokens");
  kv_storage_.reset(new uint8_t[kv_bytes_]);
  for (int64_t l = 0; l < config.n_layers; ++l) {
    uint8_t* base = kv_storage_.get() + 2 * half_layer_bytes * uint64_t(l);
    kv_layers_.push_back(
        {options.kv_type, config.n_kv_heads, context_length_, config.head_dim, base, base + half_layer_bytes});
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

std::span<const float> Session::append(std::span<const int32_t> tokens) {
  if (tokens.empty()) throw std::runtime_error("no tokens to append");
  check_fits(tokens);
  forward_.forward(tokens, position_, kv_layers_, LogitsFor::LastToken, logits_.data());
  position_ += int64_t(tokens.size());
  return logits_;
}

std::vector<float> Session::append_all_logits(std::span<const int32_t> tokens) {
  if (tokens.empty()) throw std::runtime_error("no tokens to append");
  check_fits(tokens);
  std::vector<float> logits(tokens.size() * size_t(model_.config().vocab_size));
  forward_.forward(tokens, position_, kv_layers_, LogitsFor::EveryToken, logits.data());
  position_ += int64_t(tokens.size());
  std::copy_n(logits.end() - model_.config().vocab_size, model_.config().vocab_size, logits_.begin());
  return logits;
}

void Session::rewind_to(int64_t n_tokens) {
  if (n_tokens < 0 || n_tokens > position_)
    throw std::runtime_error("cannot rewind to " + std::to_string(n_tokens) + " tokens: the session holds " +
                             std::to_string(position_));
  position_ = n_tokens;
}

}  // namespace phirun
