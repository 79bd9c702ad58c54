// Beam search against transformers' on a synthetic language model (tests/search/hash_lm.h):
// 60 settings of num_beams, num_return_sequences, length_penalty, early_stopping, max_length,
// min_length, repetition penalty, no-repeat n-gram and one or two end tokens. The logits are
// exact in float32 and every decision in the fixture is at least 1e-4 from a tie, while float32
// log-softmax and sums differ from torch's by about 1e-6: sequences must be equal and scores
// within 1e-5.
#include <gtest/gtest.h>

#include <vector>

#include "search/beam_search.h"
#include "search/logits_processors.h"
#include "tests/search/fixture_json.h"
#include "tests/search/hash_lm.h"

namespace phirun {
namespace {

struct SyntheticCase {
  int64_t vocab;
  uint64_t salt;
  double end_bias;
  std::vector<int32_t> end_ids;
  float repetition_penalty;
  int64_t no_repeat_ngram_size;
  int64_t min_length;
};

// Log-probabilities of every running beam, processed as transformers' beam search does.
std::vector<float> beam_log_probs(const BeamSearch& search, const SyntheticCase& c) {
  std::vector<float> rows;
  for (int32_t b = 0; b < search.num_beams(); ++b) {
    const auto tokens = search.beam_tokens(b);
    std::vector<float> row = testing::hash_lm_logits(tokens, c.vocab, c.salt, c.end_bias);
    log_softmax(row);
    apply_repetition_penalty(row, tokens, c.repetition_penalty);
    apply_no_repeat_ngram(row, tokens, c.no_repeat_ngram_size);
    apply_min_length(row, int64_t(tokens.size()), c.min_length, c.end_ids);
    rows.insert(rows.end(), row.begin(), row.end());
  }
  return rows;
}

TEST(BeamSearch, MatchesTransformersOnTheSyntheticModel) {
  const auto& fixture = testing::generation_fixture("synthetic_beam.json");
  int index = 0;
  for (const auto& f : fixture["cases"]) {
    const auto& p = f["params"];
    SCOPED_TRACE("case " + std::to_string(index++) + ": " + p.dump());
    const SyntheticCase c{f["vocab"],
                          f["salt"],
                          f["end_bias"],
                          f["end_ids"].get<std::vector<int32_t>>(),
                          p["repetition_penalty"],
                          p["no_repeat_ngram_size"],
                          p["min_length"]};
    BeamSearchOptions options;
    options.num_beams = p["num_beams"];
    options.num_return_sequences = p["num_return_sequences"];
    options.length_penalty = p["length_penalty"];
    options.early_stopping = p["early_stopping"];
    options.max_length = p["max_length"];
    options.end_token_ids = c.end_ids;
    BeamSearch search(options, f["prompt"].get<std::vector<int32_t>>());
    int steps = 0;
    while (!search.is_done()) {
      search.step(beam_log_probs(search, c), c.vocab);
      ASSERT_LT(++steps, 100);
    }
    const std::vector<BeamHypothesis> results = search.results();
    const auto& sequences = f["sequences"];
    const auto& scores = f["scores"];
    ASSERT_EQ(results.size(), sequences.size());
    for (size_t r = 0; r < results.size(); ++r) {
      EXPECT_EQ(results[r].tokens, sequences[r].get<std::vector<int32_t>>()) << "sequence " << r;
      EXPECT_NEAR(results[r].score, scores[r].get<float>(), 1e-5) << "sequence " << r;
    }
  }
  EXPECT_EQ(index, 60);
}

TEST(BeamSearch, SourceBeamsAndTokensDescribeTheNewBeams) {
  BeamSearchOptions options;
  options.num_beams = 3;
  options.max_length = 12;
  options.end_token_ids = {0};
  const SyntheticCase c{16, 99, 0.0, {0}, 1.0f, 0, 0};
  BeamSearch search(options, std::vector<int32_t>{4, 5});
  for (int step = 0; step < 4 && !search.is_done(); ++step) {
    std::vector<std::vector<int32_t>> before;
    for (int32_t b = 0; b < 3; ++b) before.emplace_back(search.beam_tokens(b).begin(), search.beam_tokens(b).end());
    search.step(beam_log_probs(search, c), c.vocab);
    for (int32_t b = 0; b < 3; ++b) {
      std::vector<int32_t> expected = before[size_t(search.source_beams()[size_t(b)])];
      expected.push_back(search.next_tokens()[size_t(b)]);
      EXPECT_EQ(std::vector<int32_t>(search.beam_tokens(b).begin(), search.beam_tokens(b).end()), expected);
    }
    // Beams come best first.
    EXPECT_GE(search.beam_score(0), search.beam_score(1));
    EXPECT_GE(search.beam_score(1), search.beam_score(2));
  }
}

TEST(BeamSearch, ContradictoryOptionsAreRefused) {
  const std::vector<int32_t> prompt = {1, 2};
  BeamSearchOptions options;
  options.max_length = 10;
  options.num_beams = 33;
  EXPECT_THROW(BeamSearch(options, prompt), std::runtime_error);
  options.num_beams = 4;
  options.num_return_sequences = 5;
  EXPECT_THROW(BeamSearch(options, prompt), std::runtime_error);
  options.num_return_sequences = 2;
  options.max_length = 2;
  EXPECT_THROW(BeamSearch(options, prompt), std::runtime_error);
  options.max_length = 10;
  EXPECT_THROW(BeamSearch(options, std::vector<int32_t>{}), std::runtime_error);
  BeamSearch search(options, prompt);
  EXPECT_THROW(search.step(std::vector<float>(7), 4), std::runtime_error);  // not 4 rows of 4
}

TEST(BeamSearch, StepAfterDoneIsAnError) {
  BeamSearchOptions options;
  options.num_beams = 2;
  options.max_length = 3;  // one generated token, then every continuation ends
  BeamSearch search(options, std::vector<int32_t>{1, 2});
  const SyntheticCase c{8, 5, 0.0, {}, 1.0f, 0, 0};
  search.step(beam_log_probs(search, c), c.vocab);
  ASSERT_TRUE(search.is_done());
  EXPECT_THROW(search.step(beam_log_probs(search, c), c.vocab), std::runtime_error);
  EXPECT_EQ(search.results().size(), 1u);
  EXPECT_EQ(search.results()[0].tokens.size(), 3u);
}

}  // namespace
}  // namespace phirun
