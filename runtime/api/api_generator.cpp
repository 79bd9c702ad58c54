// The C API's generator parameters and generator.
#include <cmath>
#include <optional>

#include "runtime/api/api_handles.h"

using phirun::api::ApiError;
using phirun::api::guarded;
using phirun::api::require;

namespace {

phirun::Generator& generator_of(const phirun_generator* generator) {
  return *require(generator, "generator")->generator;
}

void check_index(const phirun::Generator& generator, size_t index) {
  if (index >= size_t(generator.sequence_count()))
    throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, "sequence index " + std::to_string(index) + " is outside [0, " +
                                                      std::to_string(generator.sequence_count()) + ")");
}

}  // namespace

extern "C" {

phirun_status phirun_generator_params_create(const phirun_model* model, phirun_generator_params** out_params) {
  return guarded([&] {
    require(out_params, "out_params");
    *out_params = nullptr;
    const auto& shared = require(model, "model")->model;
    *out_params = new phirun_generator_params{shared, phirun::default_generator_params(*shared)};
  });
}

void phirun_generator_params_free(phirun_generator_params* params) { delete params; }

phirun_status phirun_generator_params_set_search_number(phirun_generator_params* params, const char* name,
                                                        double value) {
  return guarded([&] { phirun::set_search_option(require(params, "params")->params, require(name, "name"), value); });
}

phirun_status phirun_generator_params_set_search_bool(phirun_generator_params* params, const char* name, bool value) {
  return guarded(
      [&] { phirun::set_search_option(require(params, "params")->params, require(name, "name"), value ? 1.0 : 0.0); });
}

phirun_status phirun_generator_params_get_search_number(const phirun_generator_params* params, const char* name,
                                                        double* out_value) {
  return guarded([&] {
    *require(out_value, "out_value") =
        phirun::get_search_option(require(params, "params")->params, require(name, "name"));
  });
}

phirun_status phirun_generator_params_set_stop_token_ids(phirun_generator_params* params, const int32_t* ids,
                                                         size_t count) {
  return guarded([&] {
    require(params, "params");
    if (count > 0) require(ids, "ids");
    params->params.stop_token_ids.assign(ids, ids + count);
    params->params.stop_token_ids_given = true;
  });
}

phirun_status phirun_generator_params_add_stop_string(phirun_generator_params* params, const char* text) {
  return guarded([&] {
    const std::string stop = require(text, "text");
    if (stop.empty()) throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, "a stop string is empty");
    require(params, "params")->params.stop_strings.push_back(stop);
  });
}

phirun_status phirun_generator_params_set_kv_cache_type(phirun_generator_params* params, const char* type) {
  return guarded([&] {
    const std::string name = require(type, "type");
    if (name != "f16" && name != "f32")
      throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, "KV cache type '" + name + "' is not f16 or f32");
    require(params, "params")->params.kv_type = name == "f32" ? phirun::TensorType::F32 : phirun::TensorType::F16;
  });
}

phirun_status phirun_generator_params_set_longrope_policy(phirun_generator_params* params, const char* policy) {
  return guarded([&] {
    const std::string name = require(policy, "policy");
    const std::optional<phirun::LongRopePolicy> parsed = phirun::long_rope_policy_from_name(name);
    if (!parsed)
      throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, "LongRoPE policy '" + name + "' is not reprefill or keep-cache");
    require(params, "params")->params.long_rope = *parsed;
  });
}

phirun_status phirun_generator_create(const phirun_model* model, const phirun_generator_params* params,
                                      phirun_generator** out_generator) {
  return guarded([&] {
    require(out_generator, "out_generator");
    *out_generator = nullptr;
    const auto& shared = require(model, "model")->model;
    require(params, "params");
    if (params->model != shared)
      throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, "the parameters were made for another model");
    auto generator = std::make_unique<phirun::Generator>(*shared, params->params);
    *out_generator = new phirun_generator{shared, std::move(generator)};
  });
}

void phirun_generator_free(phirun_generator* generator) { delete generator; }

phirun_status phirun_generator_append_tokens(phirun_generator* generator, const int32_t* ids, size_t count) {
  return guarded([&] {
    phirun::Generator& g = generator_of(generator);
    if (count > 0) require(ids, "ids");
    g.append_tokens(std::span<const int32_t>(ids, count));
  });
}

phirun_status phirun_generator_append_token_sequences(phirun_generator* generator, const phirun_sequences* sequences) {
  return guarded([&] {
    phirun::Generator& g = generator_of(generator);
    const auto& all = require(sequences, "sequences")->sequences;
    std::vector<std::span<const int32_t>> spans(all.begin(), all.end());
    g.append_token_sequences(spans);
  });
}

phirun_status phirun_generator_generate_next_token(phirun_generator* generator) {
  return guarded([&] {
    phirun::Generator& g = generator_of(generator);
    if (g.is_done())
      throw ApiError(PHIRUN_ERROR_STATE,
                     "the generator is done: every sequence has finished (append tokens to go on, or rewind)");
    g.generate_next_token();
  });
}

phirun_status phirun_generator_is_done(const phirun_generator* generator, bool* out_done) {
  return guarded([&] { *require(out_done, "out_done") = generator_of(generator).is_done(); });
}

phirun_status phirun_generator_get_logits(phirun_generator* generator, float** out_logits, size_t* out_rows,
                                          size_t* out_vocab) {
  return guarded([&] {
    require(out_logits, "out_logits");
    require(out_rows, "out_rows");
    require(out_vocab, "out_vocab");
    phirun::Generator& g = generator_of(generator);
    const std::span<float> logits = g.logits();
    *out_logits = logits.data();
    *out_vocab = size_t(g.vocab_size());
    *out_rows = logits.size() / size_t(g.vocab_size());
  });
}

phirun_status phirun_generator_set_logits(phirun_generator* generator, const float* logits, size_t count) {
  return guarded([&] {
    phirun::Generator& g = generator_of(generator);
    if (count > 0) require(logits, "logits");
    g.set_logits(std::span<const float>(logits, count));
  });
}

phirun_status phirun_generator_rewind_to(phirun_generator* generator, size_t length) {
  return guarded([&] {
    if (length > size_t(INT64_MAX)) throw ApiError(PHIRUN_ERROR_INVALID_ARGUMENT, "length is out of range");
    generator_of(generator).rewind_to(int64_t(length));
  });
}

phirun_status phirun_generator_sequence_count(const phirun_generator* generator, size_t* out_count) {
  return guarded([&] { *require(out_count, "out_count") = size_t(generator_of(generator).sequence_count()); });
}

phirun_status phirun_generator_get_sequence(const phirun_generator* generator, size_t index, const int32_t** out_ids,
                                            size_t* out_count) {
  return guarded([&] {
    require(out_ids, "out_ids");
    require(out_count, "out_count");
    const phirun::Generator& g = generator_of(generator);
    check_index(g, index);
    const std::span<const int32_t> tokens = g.sequence(int64_t(index));
    *out_ids = tokens.data();
    *out_count = tokens.size();
  });
}

phirun_status phirun_generator_get_last_token(const phirun_generator* generator, size_t index, int32_t* out_id) {
  return guarded([&] {
    require(out_id, "out_id");
    const phirun::Generator& g = generator_of(generator);
    check_index(g, index);
    const std::span<const int32_t> tokens = g.sequence(int64_t(index));
    if (tokens.empty())
      throw ApiError(PHIRUN_ERROR_STATE, "sequence " + std::to_string(index) + " holds no tokens yet");
    *out_id = tokens.back();
  });
}

phirun_status phirun_generator_sequence_is_done(const phirun_generator* generator, size_t index, bool* out_done) {
  return guarded([&] {
    require(out_done, "out_done");
    const phirun::Generator& g = generator_of(generator);
    check_index(g, index);
    *out_done = g.is_sequence_done(int64_t(index));
  });
}

phirun_status phirun_generator_get_sequence_score(const phirun_generator* generator, size_t index, float* out_score) {
  return guarded([&] {
    require(out_score, "out_score");
    const phirun::Generator& g = generator_of(generator);
    check_index(g, index);
    if (g.params().num_beams <= 1)
      throw ApiError(PHIRUN_ERROR_STATE, "sequence scores exist only for beam search (num_beams > 1)");
    *out_score = g.sequence_score(int64_t(index));
  });
}

}  // extern "C"
