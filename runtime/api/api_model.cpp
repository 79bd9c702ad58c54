// The C API's model, tokenizer, token sequences and streaming detokenizer.
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/api/api_handles.h"
#include "runtime/build_info.h"
#include "tokenizer/chat_template.h"

using phirun::api::ApiError;
using phirun::api::guarded;
using phirun::api::require;

namespace phirun::api {

namespace {
thread_local std::string last_error;
}  // namespace

void set_last_error(const std::string& message) noexcept {
  try {
    last_error = message;
  } catch (...) {
    last_error.clear();  // no memory even for the message: an empty one is all we can give
  }
}

void clear_last_error() noexcept { last_error.clear(); }

namespace {

// A malloc'ed copy, so that C callers free it with phirun_string_free (free()).
char* copy_string(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy, text.data(), text.size() + 1);
  return copy;
}

}  // namespace

}  // namespace phirun::api

extern "C" {

const char* phirun_last_error(void) { return phirun::api::last_error.c_str(); }

const char* phirun_status_name(phirun_status status) {
  switch (status) {
    case PHIRUN_OK:
      return "ok";
    case PHIRUN_ERROR_INVALID_ARGUMENT:
      return "invalid argument";
    case PHIRUN_ERROR_MODEL_FILE:
      return "model file error";
    case PHIRUN_ERROR_STATE:
      return "invalid state";
    case PHIRUN_ERROR_OUT_OF_MEMORY:
      return "out of memory";
    case PHIRUN_ERROR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

const char* phirun_version(void) {
  static const std::string version = std::string(phirun::build_version()) + " (commit " + phirun::build_commit() + ")";
  return version.c_str();
}

phirun_status phirun_model_load(const char* path, int n_threads, phirun_model** out_model) {
  phirun_model_options options{};
  options.n_threads = n_threads;
  return phirun_model_load_with_options(path, &options, out_model);
}

phirun_status phirun_model_load_with_options(const char* path, const phirun_model_options* options,
                                             phirun_model** out_model) {
  return guarded([&] {
    require(path, "path");
    require(options, "options");
    require(out_model, "out_model");
    *out_model = nullptr;
    if (options->n_threads < 0 || options->n_threads > 1024)
      throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT,
                     "n_threads = " + std::to_string(options->n_threads) + " is outside [0, 1024]");
    if (options->context_length < 0)
      throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT,
                     "context_length = " + std::to_string(options->context_length) + " is negative");
    phirun::LoadOptions load_options;
    load_options.n_threads = options->n_threads;
    load_options.max_memory_bytes = options->max_memory_bytes;
    load_options.context_length = options->context_length;
    std::shared_ptr<const phirun::Model> model;
    try {
      model = phirun::Model::load(path, load_options);
    } catch (const phirun::MemoryBudgetError&) {
      throw;  // PHIRUN_ERROR_OUT_OF_MEMORY
    } catch (const std::runtime_error& error) {
      throw ApiError(PHIRUN_ERROR_MODEL_FILE, error.what());
    }
    *out_model = new phirun_model{std::move(model)};
  });
}

void phirun_model_free(phirun_model* model) { delete model; }

phirun_status phirun_model_vocab_size(const phirun_model* model, int32_t* out_size) {
  return guarded(
      [&] { *require(out_size, "out_size") = int32_t(require(model, "model")->model->config().vocab_size); });
}

phirun_status phirun_model_context_length(const phirun_model* model, int64_t* out_length) {
  return guarded([&] { *require(out_length, "out_length") = require(model, "model")->model->config().context_length; });
}

phirun_status phirun_tokenizer_create(const phirun_model* model, phirun_tokenizer** out_tokenizer) {
  return guarded([&] {
    require(out_tokenizer, "out_tokenizer");
    *out_tokenizer = nullptr;
    *out_tokenizer = new phirun_tokenizer{require(model, "model")->model};
  });
}

void phirun_tokenizer_free(phirun_tokenizer* tokenizer) { delete tokenizer; }

phirun_status phirun_tokenizer_encode(const phirun_tokenizer* tokenizer, const char* text,
                                      phirun_sequences* sequences) {
  return guarded([&] {
    const auto& model = require(tokenizer, "tokenizer")->model;
    require(sequences, "sequences")->sequences.push_back(model->tokenizer().encode(require(text, "text"), true));
  });
}

phirun_status phirun_tokenizer_decode(const phirun_tokenizer* tokenizer, const int32_t* ids, size_t count,
                                      char** out_text) {
  return guarded([&] {
    require(out_text, "out_text");
    *out_text = nullptr;
    const auto& model = require(tokenizer, "tokenizer")->model;
    if (count > 0) require(ids, "ids");
    // A whole text of its own: as Tokenizer::decode (and Hugging Face) decode it, made valid UTF-8.
    phirun::StreamingDecoder decoder(model->tokenizer(), false, true);
    std::string text;
    for (size_t i = 0; i < count; ++i) text += decoder.push(ids[i]);
    text += decoder.flush();
    *out_text = phirun::api::copy_string(text);
  });
}

phirun_status phirun_tokenizer_apply_chat_template(const phirun_tokenizer* tokenizer, const char* const* roles,
                                                   const char* const* contents, size_t count,
                                                   bool add_generation_prompt, char** out_text) {
  return guarded([&] {
    require(out_text, "out_text");
    *out_text = nullptr;
    const auto& model = require(tokenizer, "tokenizer")->model;
    std::vector<phirun::ChatMessage> messages;
    if (count > 0) {
      require(roles, "roles");
      require(contents, "contents");
    }
    for (size_t i = 0; i < count; ++i) {
      if (!roles[i] || !contents[i])
        throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, "message " + std::to_string(i) + " has a NULL role or content");
      messages.push_back({roles[i], contents[i]});
    }
    // The template sees the texts of the model's BOS and EOS tokens, as transformers passes them.
    const phirun::Tokenizer& vocabulary = model->tokenizer();
    phirun::ChatTemplateOptions options;
    options.add_generation_prompt = add_generation_prompt;
    if (vocabulary.vocab().bos_id >= 0) options.bos_token = vocabulary.token_bytes(vocabulary.vocab().bos_id);
    if (vocabulary.vocab().eos_id >= 0) options.eos_token = vocabulary.token_bytes(vocabulary.vocab().eos_id);
    *out_text = phirun::api::copy_string(phirun::render_chat(model->chat_template(), messages, options));
  });
}

void phirun_string_free(char* text) { std::free(text); }

phirun_status phirun_sequences_create(phirun_sequences** out_sequences) {
  return guarded([&] {
    require(out_sequences, "out_sequences");
    *out_sequences = nullptr;
    *out_sequences = new phirun_sequences{};
  });
}

void phirun_sequences_free(phirun_sequences* sequences) { delete sequences; }

phirun_status phirun_sequences_append(phirun_sequences* sequences, const int32_t* ids, size_t count) {
  return guarded([&] {
    require(sequences, "sequences");
    if (count > 0) require(ids, "ids");
    sequences->sequences.emplace_back(ids, ids + count);
  });
}

phirun_status phirun_sequences_count(const phirun_sequences* sequences, size_t* out_count) {
  return guarded([&] { *require(out_count, "out_count") = require(sequences, "sequences")->sequences.size(); });
}

phirun_status phirun_sequences_get(const phirun_sequences* sequences, size_t index, const int32_t** out_ids,
                                   size_t* out_count) {
  return guarded([&] {
    require(out_ids, "out_ids");
    require(out_count, "out_count");
    const auto& all = require(sequences, "sequences")->sequences;
    if (index >= all.size())
      throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT,
                     "sequence index " + std::to_string(index) + " is outside [0, " + std::to_string(all.size()) + ")");
    *out_ids = all[index].data();
    *out_count = all[index].size();
  });
}

phirun_status phirun_stream_decoder_create(const phirun_tokenizer* tokenizer, phirun_stream_decoder** out_decoder) {
  return guarded([&] {
    require(out_decoder, "out_decoder");
    *out_decoder = nullptr;
    const auto& model = require(tokenizer, "tokenizer")->model;
    *out_decoder = new phirun_stream_decoder{model, phirun::StreamingDecoder(model->tokenizer()), {}};
  });
}

void phirun_stream_decoder_free(phirun_stream_decoder* decoder) { delete decoder; }

phirun_status phirun_stream_decoder_decode(phirun_stream_decoder* decoder, int32_t id, const char** out_text) {
  return guarded([&] {
    require(out_text, "out_text");
    require(decoder, "decoder");
    const int64_t vocab = decoder->model->tokenizer().vocab_size();
    if (id < 0 || id >= vocab)
      throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT,
                     "token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab));
    decoder->text = decoder->decoder.push(id);
    *out_text = decoder->text.c_str();
  });
}

phirun_status phirun_stream_decoder_flush(phirun_stream_decoder* decoder, const char** out_text) {
  return guarded([&] {
    require(out_text, "out_text");
    require(decoder, "decoder")->text = decoder->decoder.flush();
    *out_text = decoder->text.c_str();
  });
}

}  // extern "C"
