// The Generator on tiny random models: batches agree with single prompts, beam search with its
// KV reordering agrees with a search that recomputes every beam from scratch, rewind and
// multi-turn appends compute only what is new, custom logits are used, seeds repeat, and every
// contradictory parameter or misuse is one clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "runtime/generator.h"
#include "runtime/session.h"
#include "search/logits_processors.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

using namespace phirun::testing;

std::unique_ptr<Model> tiny_model(int threads = 1, TinyModelOptions options = {}) {
  static TempDir dir;
  static int count = 0;
  const std::string path = dir.file("tiny" + std::to_string(count++) + ".gguf");
  options.matrix_type = TensorType::F32;  // float weights: logits far from ties, runs exact
  write_tiny_llama_gguf(path, options);
  return Model::load(path, LoadOptions{threads});
}

const Model& shared_tiny() {
  static std::unique_ptr<Model> model = tiny_model();
  return *model;
}

GeneratorParams exact_params() {
  GeneratorParams params;
  params.kv_type = TensorType::F32;
  params.stop_token_ids_given = true;  // no stop token: random weights would end at random
  params.max_length = 40;
  return params;
}

std::vector<int32_t> prompt_of(int length, int salt = 0) {
  std::vector<int32_t> ids;
  for (int i = 0; i < length; ++i) ids.push_back(kTinyFirstByteId + (i * 37 + salt * 11 + 5) % 200);
  return ids;
}

std::vector<int32_t> run_to_end(Generator& generator, int64_t index = 0) {
  while (!generator.is_done()) generator.generate_next_token();
  const auto tokens = generator.sequence(index);
  return {tokens.begin(), tokens.end()};
}

// The plain greedy loop over a Session, as the tool ran before the Generator.
std::vector<int32_t> session_greedy(const Model& model, std::vector<int32_t> tokens, int64_t max_length) {
  Session session(model, SessionOptions{128, TensorType::F32});
  std::span<const float> logits = session.append(tokens);
  while (int64_t(tokens.size()) < max_length) {
    int32_t best = 0;
    for (size_t i = 1; i < logits.size(); ++i)
      if (logits[i] > logits[size_t(best)]) best = int32_t(i);
    tokens.push_back(best);
    if (int64_t(tokens.size()) == max_length) break;
    logits = session.append(std::span<const int32_t>(&tokens.back(), 1));
  }
  return tokens;
}

TEST(Generator, GreedyEqualsTheSessionLoop) {
  const Model& model = shared_tiny();
  Generator generator(model, exact_params());
  generator.append_tokens(prompt_of(7));
  EXPECT_EQ(run_to_end(generator), session_greedy(model, prompt_of(7), 40));
  EXPECT_EQ(generator.finish_reason(0), FinishReason::MaxLength);
  EXPECT_EQ(generator.prompt_length(0), 7);
}

TEST(Generator, ABatchOfDifferentLengthsEqualsEachPromptAlone) {
  const Model& model = shared_tiny();
  GeneratorParams params = exact_params();
  params.batch_size = 3;
  params.repetition_penalty = 1.2f;
  Generator batch(model, params);
  const std::vector<std::vector<int32_t>> prompts = {prompt_of(3, 1), prompt_of(11, 2), prompt_of(6, 3)};
  const std::vector<std::span<const int32_t>> spans(prompts.begin(), prompts.end());
  batch.append_token_sequences(spans);
  while (!batch.is_done()) batch.generate_next_token();
  params.batch_size = 1;
  for (size_t i = 0; i < prompts.size(); ++i) {
    Generator alone(model, params);
    alone.append_tokens(prompts[i]);
    EXPECT_EQ(std::vector<int32_t>(batch.sequence(int64_t(i)).begin(), batch.sequence(int64_t(i)).end()),
              run_to_end(alone))
        << "prompt " << i;
  }
  // One forward pass per step for the whole batch: the prompt pass, then one per new token.
  EXPECT_EQ(batch.forward_passes(), 40 - 3);
}

TEST(Generator, SequencesOfABatchFinishOnTheirOwn) {
  const Model& model = shared_tiny();
  GeneratorParams params = exact_params();
  params.batch_size = 2;
  Generator probe(model, params);
  const std::vector<std::vector<int32_t>> prompts = {prompt_of(4, 5), prompt_of(9, 6)};
  const std::vector<std::span<const int32_t>> spans(prompts.begin(), prompts.end());
  probe.append_token_sequences(spans);
  for (int i = 0; i < 3; ++i) probe.generate_next_token();
  // Make the second token of prompt 0's answer its end token.
  params.stop_token_ids = {probe.sequence(0)[5]};
  Generator generator(model, params);
  generator.append_token_sequences(spans);
  generator.generate_next_token();
  generator.generate_next_token();
  EXPECT_TRUE(generator.is_sequence_done(0));
  EXPECT_EQ(generator.finish_reason(0), FinishReason::EndToken);
  EXPECT_FALSE(generator.is_done());
  const std::vector<int32_t> finished(generator.sequence(0).begin(), generator.sequence(0).end());
  const std::span<const float> logits = generator.logits();
  EXPECT_TRUE(std::isnan(logits[0])) << "a finished sequence has no logits row";
  EXPECT_FALSE(std::isnan(logits[size_t(generator.vocab_size())]));
  generator.generate_next_token();
  EXPECT_EQ(std::vector<int32_t>(generator.sequence(0).begin(), generator.sequence(0).end()), finished);
  EXPECT_EQ(generator.sequence(1).size(), 12u);
}

// Beam search driven by logits recomputed from scratch for every beam at every step: what the
// Generator's KV reordering must reproduce.
std::vector<BeamHypothesis> beam_search_from_scratch(const Model& model, const GeneratorParams& params,
                                                     const std::vector<int32_t>& prompt) {
  BeamSearchOptions options;
  options.num_beams = params.num_beams;
  options.num_return_sequences = params.num_return_sequences;
  options.length_penalty = params.length_penalty;
  options.early_stopping = params.early_stopping;
  options.max_length = params.max_length;
  options.end_token_ids = params.stop_token_ids;
  BeamSearch search(options, prompt);
  const auto vocab = size_t(model.config().vocab_size);
  while (!search.is_done()) {
    std::vector<float> rows;
    for (int32_t b = 0; b < search.num_beams(); ++b) {
      Session session(model, SessionOptions{128, TensorType::F32});
      const std::span<const float> logits = session.append(search.beam_tokens(b));
      std::vector<float> row(logits.begin(), logits.end());
      log_softmax(row);
      apply_repetition_penalty(row, search.beam_tokens(b), params.repetition_penalty);
      rows.insert(rows.end(), row.begin(), row.end());
    }
    search.step(rows, int64_t(vocab));
  }
  return search.results();
}

TEST(Generator, BeamSearchEqualsRecomputingEveryBeam) {
  const Model& model = shared_tiny();
  for (int32_t beams : {2, 4, 5}) {
    GeneratorParams params = exact_params();
    params.num_beams = beams;
    params.num_return_sequences = 2;
    params.max_length = 16;
    params.repetition_penalty = 1.3f;
    params.stop_token_ids = {kTinyFirstByteId + 'e', kTinyFirstByteId + ' '};  // hypotheses end at various lengths
    Generator generator(model, params);
    generator.append_tokens(prompt_of(5, beams));
    while (!generator.is_done()) generator.generate_next_token();
    const std::vector<BeamHypothesis> expected = beam_search_from_scratch(model, params, prompt_of(5, beams));
    ASSERT_EQ(expected.size(), 2u);
    for (int64_t r = 0; r < 2; ++r) {
      EXPECT_EQ(std::vector<int32_t>(generator.sequence(r).begin(), generator.sequence(r).end()),
                expected[size_t(r)].tokens)
          << beams << " beams, sequence " << r;
      EXPECT_NEAR(generator.sequence_score(r), expected[size_t(r)].score, 1e-5);
    }
    // The prompt is computed once, each step one token per beam, and a reorder copies only the
    // generated rows of duplicated beams (never the prompt again, never a shared row).
    const int64_t steps = generator.forward_passes() - 1;
    EXPECT_EQ(generator.tokens_computed(), 5 + steps * beams);
    const uint64_t naive_copies = uint64_t(beams) * uint64_t(5 + steps) * uint64_t(steps);
    EXPECT_LT(generator.kv_cache().rows_copied(), naive_copies / 3) << beams << " beams";
    EXPECT_GT(generator.kv_cache().rows_copied(), 0u) << "no beam was ever duplicated: the test is too easy";
    std::printf("%d beams, %lld steps: %llu KV rows copied (copying every beam every step: %llu)\n", beams,
                static_cast<long long>(steps), static_cast<unsigned long long>(generator.kv_cache().rows_copied()),
                static_cast<unsigned long long>(naive_copies));
  }
}

TEST(Generator, BatchedBeamSearchEqualsEachPromptAlone) {
  const Model& model = shared_tiny();
  GeneratorParams params = exact_params();
  params.num_beams = 3;
  params.num_return_sequences = 3;
  params.max_length = 14;
  params.early_stopping = false;
  params.stop_token_ids = {kTinyFirstByteId + 'a'};
  params.batch_size = 2;
  Generator batch(model, params);
  const std::vector<std::vector<int32_t>> prompts = {prompt_of(2, 8), prompt_of(7, 9)};
  const std::vector<std::span<const int32_t>> spans(prompts.begin(), prompts.end());
  batch.append_token_sequences(spans);
  while (!batch.is_done()) batch.generate_next_token();
  params.batch_size = 1;
  for (size_t p = 0; p < 2; ++p) {
    Generator alone(model, params);
    alone.append_tokens(prompts[p]);
    while (!alone.is_done()) alone.generate_next_token();
    for (int64_t r = 0; r < 3; ++r) {
      const auto got = batch.sequence(int64_t(p) * 3 + r);
      EXPECT_EQ(std::vector<int32_t>(got.begin(), got.end()),
                std::vector<int32_t>(alone.sequence(r).begin(), alone.sequence(r).end()));
      EXPECT_EQ(batch.sequence_score(int64_t(p) * 3 + r), alone.sequence_score(r));
    }
  }
}

TEST(Generator, RewindRecomputesOnlyTheLastKeptToken) {
  const Model& model = shared_tiny();
  Generator generator(model, exact_params());
  generator.append_tokens(prompt_of(6));
  for (int i = 0; i < 10; ++i) generator.generate_next_token();
  const std::vector<int32_t> first(generator.sequence(0).begin(), generator.sequence(0).end());
  generator.rewind_to(9);
  EXPECT_EQ(generator.sequence(0).size(), 9u);
  const int64_t computed = generator.tokens_computed();
  for (int i = 0; i < 7; ++i) generator.generate_next_token();
  EXPECT_EQ(std::vector<int32_t>(generator.sequence(0).begin(), generator.sequence(0).end()), first);
  EXPECT_EQ(generator.tokens_computed() - computed, 7) << "token 8 again, then one per new token";
  // Rewind, then new tokens appended after it: only they (and the last kept one) are computed.
  generator.rewind_to(8);
  const int64_t before_append = generator.tokens_computed();
  generator.append_tokens(prompt_of(3, 4));
  generator.generate_next_token();
  EXPECT_EQ(generator.tokens_computed() - before_append, 1 + 3);
  EXPECT_EQ(generator.sequence(0).size(), 12u);
  EXPECT_THROW(generator.rewind_to(13), std::runtime_error);
  EXPECT_THROW(generator.rewind_to(-1), std::runtime_error);
}

TEST(Generator, ANewTurnComputesOnlyItsOwnTokens) {
  const Model& model = shared_tiny();
  GeneratorParams params = exact_params();
  params.max_length = 60;
  Generator probe(model, params);
  probe.append_tokens(prompt_of(5));
  probe.generate_next_token();
  params.stop_token_ids = {probe.sequence(0)[5]};  // the first answer ends at its first token
  Generator generator(model, params);
  generator.append_tokens(prompt_of(5));
  generator.generate_next_token();
  ASSERT_TRUE(generator.is_done());
  EXPECT_THROW(generator.generate_next_token(), std::runtime_error);
  const int64_t computed = generator.tokens_computed();
  generator.append_tokens(prompt_of(4, 7));  // the next turn
  EXPECT_FALSE(generator.is_done());
  generator.generate_next_token();
  EXPECT_EQ(generator.tokens_computed() - computed, 1 + 4) << "the end token of turn 1, then turn 2";
  EXPECT_EQ(generator.prompt_length(0), 10);
}

TEST(Generator, CustomLogitsDecideTheNextToken) {
  const Model& model = shared_tiny();
  Generator generator(model, exact_params());
  generator.append_tokens(prompt_of(4));
  std::span<float> logits = generator.logits();
  ASSERT_EQ(logits.size(), size_t(generator.vocab_size()));
  logits[42] = 1e6f;  // in place
  generator.generate_next_token();
  EXPECT_EQ(generator.sequence(0).back(), 42);
  std::vector<float> replaced(size_t(generator.vocab_size()), 0.0f);
  replaced[17] = 5.0f;
  generator.set_logits(replaced);
  generator.generate_next_token();
  EXPECT_EQ(generator.sequence(0).back(), 17);
  EXPECT_THROW(generator.set_logits(std::vector<float>(3)), std::runtime_error);
}

TEST(Generator, MinLengthHoldsBackTheEndToken) {
  const Model& model = shared_tiny();
  GeneratorParams params = exact_params();
  Generator probe(model, params);
  probe.append_tokens(prompt_of(5));
  probe.generate_next_token();
  params.stop_token_ids = {probe.sequence(0)[5]};
  params.min_length = 9;
  Generator generator(model, params);
  generator.append_tokens(prompt_of(5));
  generator.generate_next_token();
  EXPECT_NE(generator.sequence(0)[5], params.stop_token_ids[0]);
  while (!generator.is_done()) generator.generate_next_token();
  for (size_t i = 5; i < 8; ++i) EXPECT_NE(generator.sequence(0)[i], params.stop_token_ids[0]);
}

TEST(Generator, StopStringsEndTheSequenceWhereTheyAppear) {
  const Model& model = shared_tiny();
  GeneratorParams params = exact_params();
  Generator probe(model, params);
  probe.append_tokens(prompt_of(5));
  const std::vector<int32_t> full = run_to_end(probe);
  // A stop string spanning generated tokens 3 and 4.
  const Tokenizer& tokenizer = model.tokenizer();
  const std::string stop = tokenizer.token_bytes(full[8]).substr(0, 1) + tokenizer.token_bytes(full[9]);
  params.stop_strings = {stop};
  Generator generator(model, params);
  generator.append_tokens(prompt_of(5));
  const std::vector<int32_t> stopped = run_to_end(generator);
  EXPECT_EQ(generator.finish_reason(0), FinishReason::StopString);
  ASSERT_LE(stopped.size(), 10u);
  EXPECT_EQ(stopped, std::vector<int32_t>(full.begin(), full.begin() + ptrdiff_t(stopped.size())));
  const std::string text = tokenizer.decode(std::span<const int32_t>(stopped).subspan(5));
  EXPECT_NE(text.find(stop), std::string::npos);
}

std::vector<int32_t> sampled(const Model& model, int64_t seed, int32_t copies = 1) {
  GeneratorParams params = exact_params();
  params.do_sample = true;
  params.temperature = 0.8f;
  params.top_k = 50;
  params.top_p = 0.95f;
  params.random_seed = seed;
  params.num_return_sequences = copies;
  Generator generator(model, params);
  generator.append_tokens(prompt_of(5));
  while (!generator.is_done()) generator.generate_next_token();
  std::vector<int32_t> all;
  for (int64_t i = 0; i < generator.sequence_count(); ++i)
    all.insert(all.end(), generator.sequence(i).begin(), generator.sequence(i).end());
  return all;
}

TEST(Generator, ASeedGivesTheSameSampleAtOneAndTwoThreads) {
  const auto one_thread = tiny_model(1);
  const auto two_threads = tiny_model(2);
  EXPECT_EQ(sampled(*one_thread, 7), sampled(*two_threads, 7));
  EXPECT_EQ(sampled(*one_thread, 7), sampled(*one_thread, 7));
  EXPECT_NE(sampled(*one_thread, 7), sampled(*one_thread, 8));
  // num_return_sequences copies of a prompt draw different continuations from one stream.
  const std::vector<int32_t> three = sampled(*one_thread, 9, 3);
  ASSERT_EQ(three.size(), 3u * 40);
  EXPECT_NE(std::vector<int32_t>(three.begin(), three.begin() + 40),
            std::vector<int32_t>(three.begin() + 40, three.begin() + 80));
}

void expect_error(const std::function<void()>& action, const std::string& needle) {
  try {
    action();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
  }
}

TEST(Generator, ContradictoryParametersAreOneClearError) {
  const Model& model = shared_tiny();
  auto with = [&](auto change) {
    return [&model, change] {
      GeneratorParams params;
      change(params);
      Generator generator(model, params);
    };
  };
  expect_error(with([](GeneratorParams& p) { p.top_p = 0.0f; }), "top_p = 0 is outside (0, 1]");
  expect_error(with([](GeneratorParams& p) { p.top_p = 1.5f; }), "top_p = 1.5");
  expect_error(with([](GeneratorParams& p) { p.top_k = -1; }), "top_k = -1");
  expect_error(with([](GeneratorParams& p) { p.temperature = -0.5f; }), "temperature");
  expect_error(with([](GeneratorParams& p) { p.repetition_penalty = 0.0f; }), "repetition_penalty");
  expect_error(with([](GeneratorParams& p) { p.num_beams = 4, p.num_return_sequences = 5; }),
               "num_return_sequences = 5 must be between 1 and num_beams = 4");
  expect_error(with([](GeneratorParams& p) { p.num_beams = 33; }), "num_beams = 33");
  expect_error(with([](GeneratorParams& p) { p.num_return_sequences = 2; }), "greedy search");
  expect_error(with([](GeneratorParams& p) { p.num_beams = 2, p.do_sample = true; }), "beam sampling");
  expect_error(with([](GeneratorParams& p) { p.max_length = 129; }), "max_length = 129");
  expect_error(with([](GeneratorParams& p) { p.min_length = 50, p.max_length = 40; }), "min_length = 50");
  expect_error(with([](GeneratorParams& p) { p.diversity_penalty = 0.5f; }), "diversity_penalty");
  expect_error(with([](GeneratorParams& p) { p.batch_size = 0; }), "batch_size = 0");
  expect_error(with([](GeneratorParams& p) { p.stop_token_ids = {99999}, p.stop_token_ids_given = true; }),
               "stop token id 99999");
  expect_error(with([](GeneratorParams& p) { p.num_beams = 2, p.stop_strings = {"x"}; }), "stop strings");
}

TEST(Generator, MisuseIsOneClearError) {
  const Model& model = shared_tiny();
  GeneratorParams params = exact_params();
  params.max_length = 10;
  Generator generator(model, params);
  expect_error([&] { generator.generate_next_token(); }, "prompt 0 is empty");
  expect_error([&] { generator.append_tokens(std::vector<int32_t>{5, 264}); }, "token id 264 is outside");
  expect_error([&] { generator.append_tokens(prompt_of(10)); }, "no room below max_length = 10");
  generator.append_tokens(prompt_of(8));
  generator.generate_next_token();
  generator.generate_next_token();
  ASSERT_TRUE(generator.is_done());
  EXPECT_EQ(generator.finish_reason(0), FinishReason::MaxLength);
  expect_error([&] { generator.generate_next_token(); }, "the generator is done");
  expect_error([&] { generator.sequence(1); }, "sequence index 1 is outside [0, 1)");
  expect_error([&] { generator.sequence_score(0); }, "only for beam search");

  params.batch_size = 2;
  Generator batch(model, params);
  expect_error([&] { batch.append_tokens(prompt_of(3)); }, "batch_size 2");
  const std::vector<int32_t> one = prompt_of(3);
  const std::span<const int32_t> only_one[1] = {one};
  expect_error([&] { batch.append_token_sequences(only_one); }, "got 1 token sequences for a batch_size of 2");

  params.batch_size = 1;
  params.num_beams = 2;
  Generator beams(model, params);
  beams.append_tokens(prompt_of(3));
  beams.generate_next_token();
  expect_error([&] { beams.append_tokens(prompt_of(1)); }, "before the first generated token");
  expect_error([&] { beams.rewind_to(2); }, "rewind_to works on a batch of one sequence");
}

TEST(GeneratorParams, DefaultsComeFromTheModelsGenerationConfig) {
  const auto plain = tiny_model();
  const GeneratorParams defaults = default_generator_params(*plain);
  EXPECT_EQ(defaults.max_length, 128);  // the context (below the 4096 cap)
  EXPECT_FALSE(defaults.do_sample);
  EXPECT_EQ(defaults.top_k, 0);
  EXPECT_EQ(defaults.top_p, 1.0f);
  EXPECT_FALSE(defaults.stop_token_ids_given);
  EXPECT_EQ(resolve_generator_params(defaults, *plain).stop_token_ids, plain->tokenizer().end_of_generation_ids());

  TinyModelOptions options;
  options.override_keys = {
      {"general.sampling.top_k", GgufValue::of_i32(40)},  // as phirun's builder and llama.cpp write them
      {"general.sampling.top_p", GgufValue::of_f32(0.9f)},
      {"general.sampling.temp", GgufValue::of_f32(0.6f)},
      {"general.sampling.penalty_repeat", GgufValue::of_f32(1.1f)},
      {"phirun.eos_token_ids", GgufValue::of_i32s({5, 6})},
      {"phirun.generation.do_sample", GgufValue::of_bool(true)},
      {"phirun.generation.max_length", GgufValue::of_u32(64)},
      {"phirun.generation.num_beams", GgufValue::of_u32(3)},
      {"phirun.generation.length_penalty", GgufValue::of_f32(0.5f)},
      {"phirun.generation.early_stopping", GgufValue::of_bool(false)},
  };
  const auto configured = tiny_model(1, options);
  const GeneratorParams params = default_generator_params(*configured);
  EXPECT_EQ(params.top_k, 40);
  EXPECT_EQ(params.top_p, 0.9f);
  EXPECT_EQ(params.temperature, 0.6f);
  EXPECT_EQ(params.repetition_penalty, 1.1f);
  EXPECT_EQ(params.stop_token_ids, (std::vector<int32_t>{5, 6}));
  EXPECT_TRUE(params.do_sample);
  EXPECT_EQ(params.max_length, 64);
  EXPECT_EQ(params.num_beams, 3);
  EXPECT_EQ(params.length_penalty, 0.5f);
  EXPECT_FALSE(params.early_stopping);

  TinyModelOptions bad;
  bad.override_keys = {{"phirun.eos_token_ids", GgufValue::of_string("2")}};
  const auto broken = tiny_model(1, bad);
  expect_error([&] { default_generator_params(*broken); }, "phirun.eos_token_ids must be an array of integers");
}

TEST(Generator, ABatchLargerThanTheKvCacheAllowsIsRefused) {
  TinyModelOptions options;
  options.context_length = int64_t(1) << 24;
  const auto model = tiny_model(1, options);
  GeneratorParams params;
  params.batch_size = 1024;
  params.max_length = int64_t(1) << 24;  // 1024 x 16M positions x 512 bytes: far beyond any machine
  expect_error([&] { Generator generator(*model, params); }, "lower max_length, batch_size or num_beams");
}

}  // namespace
}  // namespace phirun
