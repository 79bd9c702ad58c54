// The seeded generator against the published xoshiro256** vectors, and sampling frequencies
// against softmax probabilities by a chi-square test over many seeded draws.
//
// Chi-square: N draws over k kept tokens give a statistic with k-1 degrees of freedom when the
// sampler is right; the test fails above the 1 - 1e-4 quantile (Wilson-Hilferty). The seeds are
// fixed, so the outcome is deterministic; the power check shows the same test rejects a sampler
// that draws from a temperature of 1 when 0.7 was asked.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "search/logits_processors.h"
#include "search/random.h"
#include "search/sampling.h"
#include "tests/search/fixture_json.h"

namespace phirun {
namespace {

TEST(SeededRandom, MatchesTheReferenceVector) {
  // xoshiro256** from state {1, 2, 3, 4}: the first outputs of the reference C implementation.
  SeededRandom random = SeededRandom::from_state({1, 2, 3, 4});
  EXPECT_EQ(random.next_u64(), 11520u);
  EXPECT_EQ(random.next_u64(), 0u);
  EXPECT_EQ(random.next_u64(), 1509978240u);
  EXPECT_EQ(random.next_u64(), 1215971899390074240u);
}

TEST(SeededRandom, SeedsThroughSplitmix64) {
  // Seed 42: state from splitmix64(42) x4, then xoshiro256** (values from a Python transcription).
  SeededRandom random(42);
  EXPECT_EQ(random.next_u64(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(random.next_u64(), 0x6104d9866d113a7eull);
  SeededRandom zero(0);
  EXPECT_EQ(zero.next_u64(), 0x99ec5f36cb75f2b4ull);
}

TEST(SeededRandom, UniformStaysInTheUnitInterval) {
  SeededRandom random(7);
  double total = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = random.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    total += u;
  }
  EXPECT_NEAR(total / 100000, 0.5, 0.005);  // 5 standard errors (0.289 / sqrt(1e5) = 0.0009)
}

std::vector<double> softmax(const std::vector<float>& scores) {
  double max_score = -INFINITY;
  for (float s : scores) max_score = std::max(max_score, double(s));
  std::vector<double> p(scores.size());
  double total = 0;
  for (size_t i = 0; i < scores.size(); ++i) total += p[i] = std::exp(double(scores[i]) - max_score);
  for (double& value : p) value /= total;
  return p;
}

// Upper 1e-4 quantile of chi-square with `df` degrees of freedom (Wilson-Hilferty).
double chi_square_critical(int df) {
  const double z = 3.7190;  // standard normal upper 1e-4 quantile
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

struct ChiSquare {
  double statistic = 0;
  int degrees_of_freedom = 0;
};

ChiSquare chi_square(const std::vector<int>& counts, const std::vector<double>& probabilities, int draws) {
  ChiSquare result;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (probabilities[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " was removed but drawn";
      continue;
    }
    const double expected = probabilities[i] * draws;
    result.statistic += (counts[i] - expected) * (counts[i] - expected) / expected;
    ++result.degrees_of_freedom;
  }
  result.degrees_of_freedom -= 1;
  return result;
}

std::vector<int> draw_counts(const std::vector<float>& scores, uint64_t seed, int draws) {
  SeededRandom random(seed);
  std::vector<int> counts(scores.size());
  for (int i = 0; i < draws; ++i) ++counts[size_t(sample_from_scores(scores, random))];
  return counts;
}

TEST(Sampling, FrequenciesFollowTheFilteredSoftmax) {
  const auto& fixture = testing::generation_fixture("processors.json");
  constexpr int kDraws = 200000;
  int tested = 0;
  for (const auto& c : fixture["cases"]) {
    if (c["op"] != "chain" && c["op"] != "top_k" && c["op"] != "top_p") continue;
    if (c["op"] == "top_k" && c["value"] != 10) continue;
    if (c["op"] == "top_p" && c["value"] != 0.9) continue;
    // transformers' filtered scores; expected probabilities are their softmax.
    const std::vector<float> scores = testing::scores_from_json(c["out"]);
    const std::vector<double> probabilities = softmax(scores);
    for (uint64_t seed : {1u, 2u, 3u}) {
      const ChiSquare result = chi_square(draw_counts(scores, seed, kDraws), probabilities, kDraws);
      if (result.degrees_of_freedom < 1) continue;
      EXPECT_LT(result.statistic, chi_square_critical(result.degrees_of_freedom))
          << c["op"] << " row " << c["row"] << " seed " << seed << ", " << result.degrees_of_freedom << " df";
      ++tested;
    }
  }
  EXPECT_GE(tested, 24);
}

TEST(Sampling, TheChiSquareTestRejectsTheWrongTemperature) {
  const auto& fixture = testing::generation_fixture("processors.json");
  std::vector<float> asked = fixture["rows"][0].get<std::vector<float>>();
  const std::vector<float> wrong = asked;  // temperature 1
  apply_temperature(asked, 0.7f);
  constexpr int kDraws = 200000;
  const ChiSquare result = chi_square(draw_counts(wrong, 5, kDraws), softmax(asked), kDraws);
  EXPECT_GT(result.statistic, 10 * chi_square_critical(result.degrees_of_freedom));
}

TEST(Sampling, ASeedGivesTheSameDraws) {
  const std::vector<float> scores = {0.1f, 0.5f, -0.3f, 1.2f, 0.0f};
  SeededRandom a(1234), b(1234), c(1235);
  std::vector<int32_t> draws_a, draws_b, draws_c;
  for (int i = 0; i < 64; ++i) {
    draws_a.push_back(sample_from_scores(scores, a));
    draws_b.push_back(sample_from_scores(scores, b));
    draws_c.push_back(sample_from_scores(scores, c));
  }
  EXPECT_EQ(draws_a, draws_b);
  EXPECT_NE(draws_a, draws_c);
}

TEST(Sampling, NothingLeftToDrawIsAnError) {
  SeededRandom random(1);
  const std::vector<float> removed(4, -INFINITY);
  EXPECT_THROW(sample_from_scores(removed, random), std::runtime_error);
  EXPECT_THROW(sample_from_scores(std::vector<float>{}, random), std::runtime_error);
}

}  // namespace
}  // namespace phirun
