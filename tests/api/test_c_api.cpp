// The C API through libphirun.so, and the C++ wrapper over it, on a tiny model: a whole
// generation, every kind of bad input as a status and a message (NULL handles, a missing file,
// unknown or contradictory options, ids outside the vocabulary, calls after the end), and
// handles that outlive the model they came from.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "phirun/phirun.h"
#include "phirun/phirun.hpp"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace {

using namespace phirun::testing;

const std::string& tiny_path() {
  static TempDir dir;
  static const std::string path = [] {
    const std::string file = dir.file("tiny.gguf");
    TinyModelOptions options;
    options.matrix_type = phirun::TensorType::F32;
    write_tiny_llama_gguf(file, options);
    return file;
  }();
  return path;
}

// The status, and the last error containing `needle`.
#define EXPECT_STATUS(call, status, needle)                                              \
  do {                                                                                   \
    EXPECT_EQ((call), (status));                                                         \
    EXPECT_NE(std::string(phirun_last_error()).find(needle), std::string::npos)          \
        << "last error: '" << phirun_last_error() << "', expected '" << (needle) << "'"; \
  } while (0)

TEST(CApi, AWholeGeneration) {
  phirun_model* model = nullptr;
  ASSERT_EQ(phirun_model_load(tiny_path().c_str(), 1, &model), PHIRUN_OK) << phirun_last_error();
  EXPECT_STREQ(phirun_last_error(), "");
  int32_t vocab = 0;
  ASSERT_EQ(phirun_model_vocab_size(model, &vocab), PHIRUN_OK);
  EXPECT_EQ(vocab, 264);

  phirun_tokenizer* tokenizer = nullptr;
  phirun_sequences* prompt = nullptr;
  ASSERT_EQ(phirun_tokenizer_create(model, &tokenizer), PHIRUN_OK);
  ASSERT_EQ(phirun_sequences_create(&prompt), PHIRUN_OK);
  ASSERT_EQ(phirun_tokenizer_encode(tokenizer, "hello the world", prompt), PHIRUN_OK);
  const int32_t* ids = nullptr;
  size_t n_prompt = 0;
  ASSERT_EQ(phirun_sequences_get(prompt, 0, &ids, &n_prompt), PHIRUN_OK);
  ASSERT_GT(n_prompt, 3u);

  phirun_generator_params* params = nullptr;
  ASSERT_EQ(phirun_generator_params_create(model, &params), PHIRUN_OK);
  double max_length = 0;
  ASSERT_EQ(phirun_generator_params_get_search_number(params, "max_length", &max_length), PHIRUN_OK);
  EXPECT_EQ(max_length, 128);  // the tiny model's context
  ASSERT_EQ(phirun_generator_params_set_search_number(params, "max_length", double(n_prompt + 6)), PHIRUN_OK);
  ASSERT_EQ(phirun_generator_params_set_stop_token_ids(params, nullptr, 0), PHIRUN_OK);

  phirun_generator* generator = nullptr;
  ASSERT_EQ(phirun_generator_create(model, params, &generator), PHIRUN_OK) << phirun_last_error();
  phirun_model_free(model);  // the generator, tokenizer and parameters keep it alive
  ASSERT_EQ(phirun_generator_append_tokens(generator, ids, n_prompt), PHIRUN_OK);
  bool done = true;
  int steps = 0;
  for (; phirun_generator_is_done(generator, &done) == PHIRUN_OK && !done; ++steps)
    ASSERT_EQ(phirun_generator_generate_next_token(generator), PHIRUN_OK) << phirun_last_error();
  EXPECT_EQ(steps, 6);
  EXPECT_STATUS(phirun_generator_generate_next_token(generator), PHIRUN_ERROR_STATE, "the generator is done");

  const int32_t* sequence = nullptr;
  size_t length = 0;
  ASSERT_EQ(phirun_generator_get_sequence(generator, 0, &sequence, &length), PHIRUN_OK);
  EXPECT_EQ(length, n_prompt + 6);
  EXPECT_EQ(std::vector<int32_t>(sequence, sequence + n_prompt), std::vector<int32_t>(ids, ids + n_prompt));
  int32_t last = -1;
  ASSERT_EQ(phirun_generator_get_last_token(generator, 0, &last), PHIRUN_OK);
  EXPECT_EQ(last, sequence[length - 1]);

  // Streaming the generated ids gives the same text as decoding them at once.
  phirun_stream_decoder* stream = nullptr;
  ASSERT_EQ(phirun_stream_decoder_create(tokenizer, &stream), PHIRUN_OK);
  std::string streamed;
  for (size_t i = n_prompt; i < length; ++i) {
    const char* piece = nullptr;
    ASSERT_EQ(phirun_stream_decoder_decode(stream, sequence[i], &piece), PHIRUN_OK);
    streamed += piece;
  }
  const char* rest = nullptr;
  ASSERT_EQ(phirun_stream_decoder_flush(stream, &rest), PHIRUN_OK);
  streamed += rest;
  char* whole = nullptr;
  ASSERT_EQ(phirun_tokenizer_decode(tokenizer, sequence + n_prompt, length - n_prompt, &whole), PHIRUN_OK);
  EXPECT_EQ(streamed, whole);
  phirun_string_free(whole);

  phirun_stream_decoder_free(stream);
  phirun_generator_free(generator);
  phirun_generator_params_free(params);
  phirun_sequences_free(prompt);
  phirun_tokenizer_free(tokenizer);
}

TEST(CApi, NullHandlesAndPointersAreErrors) {
  phirun_model* model = nullptr;
  EXPECT_STATUS(phirun_model_load(nullptr, 0, &model), PHIRUN_ERROR_INVALID_ARGUMENT, "path is NULL");
  EXPECT_STATUS(phirun_model_load(tiny_path().c_str(), 0, nullptr), PHIRUN_ERROR_INVALID_ARGUMENT, "out_model is NULL");
  int32_t size;
  EXPECT_STATUS(phirun_model_vocab_size(nullptr, &size), PHIRUN_ERROR_INVALID_ARGUMENT, "model is NULL");
  phirun_tokenizer* tokenizer = nullptr;
  EXPECT_STATUS(phirun_tokenizer_create(nullptr, &tokenizer), PHIRUN_ERROR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_EQ(tokenizer, nullptr);
  EXPECT_STATUS(phirun_tokenizer_encode(nullptr, "x", nullptr), PHIRUN_ERROR_INVALID_ARGUMENT, "is NULL");
  phirun_generator_params* params = nullptr;
  EXPECT_STATUS(phirun_generator_params_create(nullptr, &params), PHIRUN_ERROR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_STATUS(phirun_generator_params_set_search_number(nullptr, "top_k", 5), PHIRUN_ERROR_INVALID_ARGUMENT,
                "params is NULL");
  phirun_generator* generator = nullptr;
  EXPECT_STATUS(phirun_generator_create(nullptr, nullptr, &generator), PHIRUN_ERROR_INVALID_ARGUMENT, "is NULL");
  EXPECT_STATUS(phirun_generator_generate_next_token(nullptr), PHIRUN_ERROR_INVALID_ARGUMENT, "generator is NULL");
  bool done;
  EXPECT_STATUS(phirun_generator_is_done(nullptr, &done), PHIRUN_ERROR_INVALID_ARGUMENT, "generator is NULL");
  EXPECT_STATUS(phirun_generator_append_tokens(nullptr, nullptr, 3), PHIRUN_ERROR_INVALID_ARGUMENT, "is NULL");
  const char* text;
  EXPECT_STATUS(phirun_stream_decoder_decode(nullptr, 1, &text), PHIRUN_ERROR_INVALID_ARGUMENT, "decoder is NULL");
  // Freeing NULL does nothing.
  phirun_model_free(nullptr);
  phirun_tokenizer_free(nullptr);
  phirun_sequences_free(nullptr);
  phirun_stream_decoder_free(nullptr);
  phirun_generator_params_free(nullptr);
  phirun_generator_free(nullptr);
  phirun_string_free(nullptr);
  EXPECT_STREQ(phirun_status_name(PHIRUN_ERROR_STATE), "invalid state");
  EXPECT_NE(std::string(phirun_version()).find("commit"), std::string::npos);
}

TEST(CApi, BadInputIsAStatusAndAMessage) {
  phirun_model* model = nullptr;
  EXPECT_STATUS(phirun_model_load("/nonexistent/model.gguf", 0, &model), PHIRUN_ERROR_MODEL_FILE,
                "/nonexistent/model.gguf");
  EXPECT_EQ(model, nullptr);
  ASSERT_EQ(phirun_model_load(tiny_path().c_str(), 1, &model), PHIRUN_OK);
  phirun_generator_params* params = nullptr;
  ASSERT_EQ(phirun_generator_params_create(model, &params), PHIRUN_OK);
  EXPECT_STATUS(phirun_generator_params_set_search_number(params, "top_q", 1), PHIRUN_ERROR_INVALID_ARGUMENT,
                "unknown search option 'top_q'");
  EXPECT_STATUS(phirun_generator_params_set_search_number(params, "num_beams", 2.5), PHIRUN_ERROR_INVALID_ARGUMENT,
                "must be a whole number");
  EXPECT_STATUS(phirun_generator_params_set_kv_cache_type(params, "q8"), PHIRUN_ERROR_INVALID_ARGUMENT, "'q8'");
  EXPECT_STATUS(phirun_generator_params_add_stop_string(params, ""), PHIRUN_ERROR_INVALID_ARGUMENT, "empty");
  EXPECT_STATUS(phirun_generator_params_set_longrope_policy(params, "keep"), PHIRUN_ERROR_INVALID_ARGUMENT,
                "LongRoPE policy 'keep' is not reprefill or keep-cache");
  EXPECT_EQ(phirun_generator_params_set_longrope_policy(params, "keep-cache"), PHIRUN_OK);
  EXPECT_EQ(phirun_generator_params_set_longrope_policy(params, "reprefill"), PHIRUN_OK);

  phirun_generator* generator = nullptr;
  ASSERT_EQ(phirun_generator_params_set_search_number(params, "top_p", 0), PHIRUN_OK);  // checked on creation
  EXPECT_STATUS(phirun_generator_create(model, params, &generator), PHIRUN_ERROR_INVALID_ARGUMENT, "top_p = 0");
  EXPECT_EQ(generator, nullptr);
  ASSERT_EQ(phirun_generator_params_set_search_number(params, "top_p", 1), PHIRUN_OK);
  ASSERT_EQ(phirun_generator_params_set_search_number(params, "num_beams", 2), PHIRUN_OK);
  ASSERT_EQ(phirun_generator_params_set_search_number(params, "num_return_sequences", 3), PHIRUN_OK);
  EXPECT_STATUS(phirun_generator_create(model, params, &generator), PHIRUN_ERROR_INVALID_ARGUMENT,
                "num_return_sequences = 3 must be between 1 and num_beams = 2");
  ASSERT_EQ(phirun_generator_params_set_search_number(params, "num_return_sequences", 1), PHIRUN_OK);
  ASSERT_EQ(phirun_generator_params_set_search_number(params, "max_length", 4), PHIRUN_OK);
  ASSERT_EQ(phirun_generator_create(model, params, &generator), PHIRUN_OK);

  const int32_t outside[] = {5, 7, 264};
  EXPECT_STATUS(phirun_generator_append_tokens(generator, outside, 3), PHIRUN_ERROR_INVALID_ARGUMENT,
                "token id 264 is outside the vocabulary");
  const int32_t too_long[] = {5, 6, 7, 8};
  EXPECT_STATUS(phirun_generator_append_tokens(generator, too_long, 4), PHIRUN_ERROR_INVALID_ARGUMENT,
                "no room below max_length = 4");
  float score;
  EXPECT_STATUS(phirun_generator_get_sequence_score(generator, 7, &score), PHIRUN_ERROR_INVALID_ARGUMENT,
                "sequence index 7");
  EXPECT_STATUS(phirun_generator_rewind_to(generator, 1), PHIRUN_ERROR_INVALID_ARGUMENT, "rewind_to");
  const char* text;
  phirun_tokenizer* tokenizer = nullptr;
  phirun_stream_decoder* stream = nullptr;
  ASSERT_EQ(phirun_tokenizer_create(model, &tokenizer), PHIRUN_OK);
  ASSERT_EQ(phirun_stream_decoder_create(tokenizer, &stream), PHIRUN_OK);
  EXPECT_STATUS(phirun_stream_decoder_decode(stream, -3, &text), PHIRUN_ERROR_INVALID_ARGUMENT, "token id -3");
  char* decoded = nullptr;
  EXPECT_STATUS(phirun_tokenizer_decode(tokenizer, outside, 3, &decoded), PHIRUN_ERROR_INVALID_ARGUMENT, "264");
  EXPECT_EQ(decoded, nullptr);
  phirun_stream_decoder_free(stream);
  phirun_tokenizer_free(tokenizer);
  phirun_generator_free(generator);
  phirun_generator_params_free(params);
  phirun_model_free(model);
}

// phirun_model_options.max_memory_bytes: the weights plus a KV cache of context_length tokens
// must fit; a refusal is PHIRUN_ERROR_OUT_OF_MEMORY with both figures, and generators keep to it.
TEST(CApi, MaxMemoryRefusesAModelThatWouldNotFit) {
  phirun_model_options options{};
  options.n_threads = 1;
  options.max_memory_bytes = 4096;
  phirun_model* model = nullptr;
  EXPECT_EQ(phirun_model_load_with_options(tiny_path().c_str(), &options, &model), PHIRUN_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(model, nullptr);
  EXPECT_EQ(std::string(phirun_last_error()).rfind(tiny_path() + ": needs ", 0), 0u) << phirun_last_error();
  EXPECT_NE(std::string(phirun_last_error()).find("but --max-memory allows 0.0 MiB"), std::string::npos);
  options.context_length = -1;
  EXPECT_STATUS(phirun_model_load_with_options(tiny_path().c_str(), &options, &model), PHIRUN_ERROR_INVALID_ARGUMENT,
                "context_length = -1 is negative");
  EXPECT_STATUS(phirun_model_load_with_options(tiny_path().c_str(), nullptr, &model), PHIRUN_ERROR_INVALID_ARGUMENT,
                "options is NULL");

  options.context_length = 8;  // room for the weights and 8 positions, not for the default 128
  options.max_memory_bytes = 64ull << 20;
  ASSERT_EQ(phirun_model_load_with_options(tiny_path().c_str(), &options, &model), PHIRUN_OK) << phirun_last_error();
  phirun_generator_params* params = nullptr;
  ASSERT_EQ(phirun_generator_params_create(model, &params), PHIRUN_OK);
  phirun_generator* generator = nullptr;
  EXPECT_EQ(phirun_generator_create(model, params, &generator), PHIRUN_OK) << "64 MiB hold 128 positions";
  phirun_generator_free(generator);
  phirun_generator_params_free(params);
  phirun_model_free(model);

  phirun_model_options tiny_budget{};
  tiny_budget.max_memory_bytes = 4096;
  try {
    phirun::api::Model refused(tiny_path(), tiny_budget);
    ADD_FAILURE() << "the C++ wrapper loaded a model past its budget";
  } catch (const phirun::api::Error& error) {
    EXPECT_EQ(error.status(), PHIRUN_ERROR_OUT_OF_MEMORY);
  }
}

TEST(CApi, LogitsCanBeReadAndReplaced) {
  phirun_model* model = nullptr;
  ASSERT_EQ(phirun_model_load(tiny_path().c_str(), 1, &model), PHIRUN_OK);
  phirun_generator_params* params = nullptr;
  ASSERT_EQ(phirun_generator_params_create(model, &params), PHIRUN_OK);
  phirun_generator* generator = nullptr;
  ASSERT_EQ(phirun_generator_create(model, params, &generator), PHIRUN_OK);
  const int32_t prompt[] = {10, 20, 30};
  ASSERT_EQ(phirun_generator_append_tokens(generator, prompt, 3), PHIRUN_OK);
  float* logits = nullptr;
  size_t rows = 0, vocab = 0;
  ASSERT_EQ(phirun_generator_get_logits(generator, &logits, &rows, &vocab), PHIRUN_OK);
  EXPECT_EQ(rows, 1u);
  EXPECT_EQ(vocab, 264u);
  std::vector<float> replaced(vocab, -1.0f);
  replaced[99] = 1.0f;
  EXPECT_STATUS(phirun_generator_set_logits(generator, replaced.data(), 5), PHIRUN_ERROR_INVALID_ARGUMENT,
                "expected 1 rows of 264");
  ASSERT_EQ(phirun_generator_set_logits(generator, replaced.data(), vocab), PHIRUN_OK);
  ASSERT_EQ(phirun_generator_generate_next_token(generator), PHIRUN_OK);
  int32_t last = 0;
  ASSERT_EQ(phirun_generator_get_last_token(generator, 0, &last), PHIRUN_OK);
  EXPECT_EQ(last, 99);
  phirun_generator_free(generator);
  phirun_generator_params_free(params);
  phirun_model_free(model);
}

TEST(CppApi, ThrowsErrorsWithTheirStatus) {
  try {
    phirun::api::Model missing("/nonexistent/model.gguf");
    FAIL() << "no exception";
  } catch (const phirun::api::Error& error) {
    EXPECT_EQ(error.status(), PHIRUN_ERROR_MODEL_FILE);
    EXPECT_NE(std::string(error.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
  phirun::api::Model model(tiny_path(), 1);
  phirun::api::GeneratorParams params(model);
  EXPECT_NO_THROW(params.set("top_p", 2.0));  // accepted here, refused by the Generator
  EXPECT_THROW(phirun::api::Generator(model, params), phirun::api::Error);
  EXPECT_THROW(params.set("no_such_option", 1), phirun::api::Error);
}

TEST(CppApi, BeamSearchAndBatchesThroughTheWrapper) {
  std::unique_ptr<phirun::api::Generator> generator;
  {
    phirun::api::Model model(tiny_path(), 1);
    phirun::api::GeneratorParams params(model);
    params.set("num_beams", 3).set("num_return_sequences", 2).set("max_length", 12).set("batch_size", 2);
    params.set_stop_token_ids({}).set_kv_cache_type("f32");
    EXPECT_EQ(params.get("num_beams"), 3);
    generator = std::make_unique<phirun::api::Generator>(model, params);
    phirun::api::Sequences prompts;
    prompts.append(std::vector<int32_t>{4, 5, 6});
    prompts.append(std::vector<int32_t>{7, 8});
    generator->append_token_sequences(prompts);
  }  // the model handle is gone; the generator keeps the model alive
  while (!generator->is_done()) generator->generate_next_token();
  ASSERT_EQ(generator->sequence_count(), 4u);
  EXPECT_EQ(generator->sequence(0).size(), 12u);
  EXPECT_EQ(generator->sequence(2).size(), 12u);
  EXPECT_EQ(generator->sequence(2)[0], 7);
  EXPECT_GE(generator->sequence_score(0), generator->sequence_score(1));
  EXPECT_THROW(generator->generate_next_token(), phirun::api::Error);
}

}  // namespace
