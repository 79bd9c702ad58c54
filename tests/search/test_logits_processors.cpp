// Logits processors against transformers' processors and warpers on fixed logits
// (tests/fixtures/generation/processors.json), and the rules on small hand-made cases.
// The fixture's logits lie on a grid of 1/1024, so temperature, the penalties and the filters give
// the same float32 values here and in torch: scores must agree to one float rounding (2 ulp
// relative), and the set of removed tokens exactly. Top-p keeps tokens by cumulative
// probability; the fixture records that no cumulative probability lies within 7e-5 of a
// threshold, far above the 1e-7 by which float32 and double sums can differ.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "search/logits_processors.h"
#include "tests/search/fixture_json.h"

namespace phirun {
namespace {

constexpr float kRemoved = -std::numeric_limits<float>::infinity();

void expect_same_scores(const std::vector<float>& got, const std::vector<float>& expected, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(expected[i])) {
      EXPECT_TRUE(std::isinf(got[i]) && got[i] < 0) << what << ": token " << i << " should be removed";
    } else {
      EXPECT_NEAR(got[i], expected[i], 2e-7 * std::max(1.0f, std::fabs(expected[i]))) << what << ": token " << i;
    }
  }
}

// Where equal scores straddle the top-p cut, torch's unstable sort picks which of them go: the
// number kept must agree, and everything above the tied value kept, everything below removed.
void expect_same_kept_up_to_ties(const std::vector<float>& row, const std::vector<float>& got,
                                 const std::vector<float>& expected, const std::string& what) {
  int kept_got = 0, kept_expected = 0;
  float tied_value = 0;
  for (size_t i = 0; i < row.size(); ++i) {
    kept_got += !std::isinf(got[i]);
    kept_expected += !std::isinf(expected[i]);
    for (size_t j = 0; j < row.size(); ++j)
      if (row[i] == row[j] && std::isinf(expected[i]) && !std::isinf(expected[j])) tied_value = row[i];
  }
  EXPECT_EQ(kept_got, kept_expected) << what;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] > tied_value) {
      EXPECT_FALSE(std::isinf(got[i])) << what << ": token " << i;
    } else if (row[i] < tied_value) {
      EXPECT_TRUE(std::isinf(got[i])) << what << ": token " << i;
    }
  }
}

TEST(LogitsProcessors, MatchTransformersOnFixedLogits) {
  const auto& fixture = testing::generation_fixture("processors.json");
  int checked = 0;
  for (const auto& c : fixture["cases"]) {
    std::vector<float> scores = fixture["rows"][c["row"].get<size_t>()].get<std::vector<float>>();
    const std::string op = c["op"];
    const std::string what =
        op + " row " + std::to_string(c["row"].get<int>()) + (c.contains("value") ? " value " + c["value"].dump() : "");
    if (op == "top_k") {
      apply_top_k(scores, c["value"].get<int64_t>());
    } else if (op == "top_p") {
      ASSERT_GT(c["threshold_margin"].get<double>(), 1e-5) << what << ": the fixture sits on a boundary";
      apply_top_p(scores, c["value"].get<float>());
      if (c["tie_at_boundary"].get<bool>()) {
        expect_same_kept_up_to_ties(fixture["rows"][c["row"].get<size_t>()].get<std::vector<float>>(), scores,
                                    testing::scores_from_json(c["out"]), what);
        ++checked;
        continue;
      }
    } else if (op == "temperature") {
      apply_temperature(scores, c["value"].get<float>());
    } else if (op == "chain") {
      apply_temperature(scores, c["temperature"].get<float>());
      apply_top_k(scores, c["top_k"].get<int64_t>());
      apply_top_p(scores, c["top_p"].get<float>());
    } else if (op == "repetition_penalty") {
      apply_repetition_penalty(scores, c["sequence"].get<std::vector<int32_t>>(), c["value"].get<float>());
    } else if (op == "no_repeat_ngram") {
      apply_no_repeat_ngram(scores, c["sequence"].get<std::vector<int32_t>>(), c["value"].get<int64_t>());
    } else if (op == "min_length") {
      const auto sequence = c["sequence"].get<std::vector<int32_t>>();
      apply_min_length(scores, int64_t(sequence.size()), c["value"].get<int64_t>(),
                       c["end_ids"].get<std::vector<int32_t>>());
    } else {
      FAIL() << "unknown op " << op;
    }
    expect_same_scores(scores, testing::scores_from_json(c["out"]), what);
    ++checked;
  }
  EXPECT_GE(checked, 100);
}

TEST(LogitsProcessors, RepetitionPenaltyDividesPositiveAndMultipliesNegativeOnce) {
  std::vector<float> scores = {2.0f, -2.0f, 1.0f, 0.0f};
  const std::vector<int32_t> sequence = {0, 1, 0, 0, 3};  // 0 three times: penalized once
  apply_repetition_penalty(scores, sequence, 2.0f);
  EXPECT_EQ(scores, (std::vector<float>{1.0f, -4.0f, 1.0f, 0.0f}));
}

TEST(LogitsProcessors, NoRepeatNgramBansWhatFollowedTheLastTokens) {
  // Sequence ... 4 5 | 4 5 ?: with n = 3 the bigram "4 5" was followed by 6, so 6 is banned.
  std::vector<float> scores(8, 0.0f);
  apply_no_repeat_ngram(scores, std::vector<int32_t>{4, 5, 6, 1, 4, 5}, 3);
  for (size_t i = 0; i < scores.size(); ++i) EXPECT_EQ(scores[i], i == 6 ? kRemoved : 0.0f) << i;
  // Too short to hold an n-gram: nothing banned.
  std::vector<float> short_scores(8, 0.0f);
  apply_no_repeat_ngram(short_scores, std::vector<int32_t>{4}, 3);
  for (float score : short_scores) EXPECT_EQ(score, 0.0f);
}

TEST(LogitsProcessors, MinLengthCountsThePrompt) {
  std::vector<float> scores(4, 1.0f);
  apply_min_length(scores, 5, 5, std::vector<int32_t>{2});
  EXPECT_EQ(scores[2], 1.0f);  // length 5 reached: end allowed
  apply_min_length(scores, 4, 5, std::vector<int32_t>{2, 3});
  EXPECT_EQ(scores[2], kRemoved);
  EXPECT_EQ(scores[3], kRemoved);
}

TEST(LogitsProcessors, TopPKeepsAtLeastTheBestToken) {
  std::vector<float> scores = {0.0f, 10.0f, 1.0f};
  apply_top_p(scores, 1e-6f);
  EXPECT_EQ(scores, (std::vector<float>{kRemoved, 10.0f, kRemoved}));
}

TEST(LogitsProcessors, TopPOnALargeVocabularyWidensItsSortedPrefix) {
  // A flat distribution: top-p 0.5 must keep half of 10000 tokens, far past the first 64 sorted.
  std::vector<float> scores(10000);
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = float(i % 7) * 1e-3f;
  std::vector<float> filtered = scores;
  apply_top_p(filtered, 0.5f);
  size_t kept = 0;
  float lowest_kept = 1e9f, highest_removed = -1e9f;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isinf(filtered[i])) {
      highest_removed = std::max(highest_removed, scores[i]);
    } else {
      ++kept;
      lowest_kept = std::min(lowest_kept, scores[i]);
    }
  }
  EXPECT_GT(kept, 4900u);
  EXPECT_LT(kept, 5100u);
  EXPECT_GE(lowest_kept, highest_removed);  // what is kept is the head of the distribution
}

TEST(LogitsProcessors, LogSoftmaxSumsToOne) {
  std::vector<float> scores = {1.0f, 2.0f, 3.0f, kRemoved};
  log_softmax(scores);
  double total = 0;
  for (float score : scores) total += std::exp(double(score));
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_EQ(scores[3], kRemoved);
  EXPECT_NEAR(scores[2], -0.40760596f, 1e-6);  // 3 - log(e + e^2 + e^3)
}

}  // namespace
}  // namespace phirun
