// phirun's C++ API: a header-only wrapper over the C API (phirun.h) with RAII ownership and
// exceptions. Every failed call throws phirun::api::Error (a std::runtime_error carrying the
// status). Objects are movable, not copyable; each keeps what it needs alive, so a Model may go
// out of scope before the Generator made from it.
//
//   phirun::api::Model model("model.gguf");
//   phirun::api::Tokenizer tokenizer(model);
//   phirun::api::GeneratorParams params(model);
//   params.set("max_length", 128);
//   phirun::api::Generator generator(model, params);
//   generator.append_tokens(tokenizer.encode("Once upon a time"));
//   phirun::api::StreamDecoder stream(tokenizer);
//   while (!generator.is_done()) {
//     generator.generate_next_token();
//     std::cout << stream.decode(generator.last_token()) << std::flush;
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phirun/phirun.h"

namespace phirun::api {

class Error : public std::runtime_error {
 public:
  Error(phirun_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  phirun_status status() const { return status_; }

 private:
  phirun_status status_;
};

namespace detail {

inline void check(phirun_status status) {
  if (status != PHIRUN_OK) throw Error(status, phirun_last_error());
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* handle) const { Free(handle); }
};

template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

struct StringDeleter {
  void operator()(char* text) const { phirun_string_free(text); }
};

inline std::string take_string(char* text) {
  std::unique_ptr<char, StringDeleter> owned(text);
  return owned ? std::string(owned.get()) : std::string();
}

}  // namespace detail

inline std::string version() { return phirun_version(); }

class Model {
 public:
  // n_threads 0: one per physical core.
  explicit Model(const std::string& path, int n_threads = 0) {
    phirun_model* model = nullptr;
    detail::check(phirun_model_load(path.c_str(), n_threads, &model));
    handle_.reset(model);
  }
  // max_memory_bytes, context_length and the rest: see phirun_model_options.
  explicit Model(const std::string& path, const phirun_model_options& options) {
    phirun_model* model = nullptr;
    detail::check(phirun_model_load_with_options(path.c_str(), &options, &model));
    handle_.reset(model);
  }
  int32_t vocab_size() const {
    int32_t size = 0;
    detail::check(phirun_model_vocab_size(handle_.get(), &size));
    return size;
  }
  int64_t context_length() const {
    int64_t length = 0;
    detail::check(phirun_model_context_length(handle_.get(), &length));
    return length;
  }
  const phirun_model* get() const { return handle_.get(); }

 private:
  detail::Handle<phirun_model, phirun_model_free> handle_;
};

// A list of token sequences: one per prompt of a batch.
class Sequences {
 public:
  Sequences() {
    phirun_sequences* sequences = nullptr;
    detail::check(phirun_sequences_create(&sequences));
    handle_.reset(sequences);
  }
  void append(std::span<const int32_t> ids) {
    detail::check(phirun_sequences_append(handle_.get(), ids.data(), ids.size()));
  }
  size_t size() const {
    size_t count = 0;
    detail::check(phirun_sequences_count(handle_.get(), &count));
    return count;
  }
  std::span<const int32_t> operator[](size_t index) const {
    const int32_t* ids = nullptr;
    size_t count = 0;
    detail::check(phirun_sequences_get(handle_.get(), index, &ids, &count));
    return {ids, count};
  }
  phirun_sequences* get() const { return handle_.get(); }

 private:
  detail::Handle<phirun_sequences, phirun_sequences_free> handle_;
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

class Tokenizer {
 public:
  explicit Tokenizer(const Model& model) {
    phirun_tokenizer* tokenizer = nullptr;
    detail::check(phirun_tokenizer_create(model.get(), &tokenizer));
    handle_.reset(tokenizer);
  }
  std::vector<int32_t> encode(const std::string& text) const {
    Sequences sequences;
    detail::check(phirun_tokenizer_encode(handle_.get(), text.c_str(), sequences.get()));
    const std::span<const int32_t> ids = sequences[0];
    return {ids.begin(), ids.end()};
  }
  std::string decode(std::span<const int32_t> ids) const {
    char* text = nullptr;
    detail::check(phirun_tokenizer_decode(handle_.get(), ids.data(), ids.size(), &text));
    return detail::take_string(text);
  }
  std::string apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) const {
    std::vector<const char*> roles, contents;
    for (const ChatMessage& message : messages) {
      roles.push_back(message.role.c_str());
      contents.push_back(message.content.c_str());
    }
    char* text = nullptr;
    detail::check(phirun_tokenizer_apply_chat_template(handle_.get(), roles.data(), contents.data(), messages.size(),
                                                       add_generation_prompt, &text));
    return detail::take_string(text);
  }
  const phirun_tokenizer* get() const { return handle_.get(); }

 private:
  detail::Handle<phirun_tokenizer, phirun_tokenizer_free> handle_;
};

// Token ids in, text out, never half a UTF-8 character.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) {
    phirun_stream_decoder* decoder = nullptr;
    detail::check(phirun_stream_decoder_create(tokenizer.get(), &decoder));
    handle_.reset(decoder);
  }
  std::string decode(int32_t id) {
    const char* text = nullptr;
    detail::check(phirun_stream_decoder_decode(handle_.get(), id, &text));
    return text;
  }
  std::string flush() {
    const char* text = nullptr;
    detail::check(phirun_stream_decoder_flush(handle_.get(), &text));
    return text;
  }

 private:
  detail::Handle<phirun_stream_decoder, phirun_stream_decoder_free> handle_;
};

class GeneratorParams {
 public:
  // The model's defaults (onnxruntime-genai's, overridden by the file's generation config).
  explicit GeneratorParams(const Model& model) {
    phirun_generator_params* params = nullptr;
    detail::check(phirun_generator_params_create(model.get(), &params));
    handle_.reset(params);
  }
  // A search option by its onnxruntime-genai name: set("top_p", 0.9), set("do_sample", true).
  GeneratorParams& set(const std::string& name, double value) {
    detail::check(phirun_generator_params_set_search_number(handle_.get(), name.c_str(), value));
    return *this;
  }
  GeneratorParams& set(const std::string& name, bool value) {
    detail::check(phirun_generator_params_set_search_bool(handle_.get(), name.c_str(), value));
    return *this;
  }
  GeneratorParams& set(const std::string& name, int value) { return set(name, double(value)); }
  GeneratorParams& set(const std::string& name, int64_t value) { return set(name, double(value)); }
  double get(const std::string& name) const {
    double value = 0;
    detail::check(phirun_generator_params_get_search_number(handle_.get(), name.c_str(), &value));
    return value;
  }
  GeneratorParams& set_stop_token_ids(std::span<const int32_t> ids) {
    detail::check(phirun_generator_params_set_stop_token_ids(handle_.get(), ids.data(), ids.size()));
    return *this;
  }
  GeneratorParams& add_stop_string(const std::string& text) {
    detail::check(phirun_generator_params_add_stop_string(handle_.get(), text.c_str()));
    return *this;
  }
  GeneratorParams& set_kv_cache_type(const std::string& type) {
    detail::check(phirun_generator_params_set_kv_cache_type(handle_.get(), type.c_str()));
    return *this;
  }
  GeneratorParams& set_longrope_policy(const std::string& policy) {
    detail::check(phirun_generator_params_set_longrope_policy(handle_.get(), policy.c_str()));
    return *this;
  }
  const phirun_generator_params* get() const { return handle_.get(); }

 private:
  detail::Handle<phirun_generator_params, phirun_generator_params_free> handle_;
};

class Generator {
 public:
  Generator(const Model& model, const GeneratorParams& params) {
    phirun_generator* generator = nullptr;
    detail::check(phirun_generator_create(model.get(), params.get(), &generator));
    handle_.reset(generator);
  }
  void append_tokens(std::span<const int32_t> ids) {
    detail::check(phirun_generator_append_tokens(handle_.get(), ids.data(), ids.size()));
  }
  void append_token_sequences(const Sequences& sequences) {
    detail::check(phirun_generator_append_token_sequences(handle_.get(), sequences.get()));
  }
  void generate_next_token() { detail::check(phirun_generator_generate_next_token(handle_.get())); }
  bool is_done() const {
    bool done = false;
    detail::check(phirun_generator_is_done(handle_.get(), &done));
    return done;
  }
  // [rows][vocab] next-token scores, changeable in place until the next call.
  std::span<float> logits() {
    float* data = nullptr;
    size_t rows = 0, vocab = 0;
    detail::check(phirun_generator_get_logits(handle_.get(), &data, &rows, &vocab));
    return {data, rows * vocab};
  }
  void set_logits(std::span<const float> values) {
    detail::check(phirun_generator_set_logits(handle_.get(), values.data(), values.size()));
  }
  void rewind_to(size_t length) { detail::check(phirun_generator_rewind_to(handle_.get(), length)); }
  size_t sequence_count() const {
    size_t count = 0;
    detail::check(phirun_generator_sequence_count(handle_.get(), &count));
    return count;
  }
  // Valid until the next call on this generator.
  std::span<const int32_t> sequence(size_t index = 0) const {
    const int32_t* ids = nullptr;
    size_t count = 0;
    detail::check(phirun_generator_get_sequence(handle_.get(), index, &ids, &count));
    return {ids, count};
  }
  int32_t last_token(size_t index = 0) const {
    int32_t id = 0;
    detail::check(phirun_generator_get_last_token(handle_.get(), index, &id));
    return id;
  }
  bool is_sequence_done(size_t index) const {
    bool done = false;
    detail::check(phirun_generator_sequence_is_done(handle_.get(), index, &done));
    return done;
  }
  float sequence_score(size_t index) const {
    float score = 0;
    detail::check(phirun_generator_get_sequence_score(handle_.get(), index, &score));
    return score;
  }

 private:
  detail::Handle<phirun_generator, phirun_generator_free> handle_;
};

}  // namespace phirun::api
