// The Generator on the default model against transformers.generate (FP32, same weights, F32 KV
// cache here): greedy, repetition penalty 1.3, no-repeat n-gram 3, min_length, and beam search
// with 4 beams, length_penalty 0.8 / 1.2, early_stopping true / false, num_return_sequences 2.
// Fixture: tests/fixtures/generation/smollm2.json (tests/fixtures/make_generation_fixtures.py).
//
// Tolerances. phirun's logits differ from transformers' by at most 6.9e-5 on these prompts
// with an F32 KV cache (tests/models/test_smollm2_reference.cpp allows 3e-4); a repetition
// penalty of 1.3 scales that by at most 1.3. Greedy ids are compared step by step while the
// reference's top-2 gap of processed scores clears that tolerance (past a closer step either
// token is right and the texts may part). A beam score is a sum of up to 20 log-probabilities
// divided by a length factor; its error was measured at 1.2e-5 at most (2026-11-26), and
// kBeamScoreTolerance allows 80 times that. A beam case is compared when every decision of the
// reference search (the fixture's min_decision_gap, see the script) is farther apart than
// that tolerance: then the same sequences must come out, with scores within it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "runtime/generator.h"
#include "tests/common/test_model.h"
#include "tests/search/fixture_json.h"

namespace phirun {
namespace {

constexpr double kLogitTolerance = 3e-4;
constexpr double kBeamScoreTolerance = 1e-3;

const Model& smollm2(const std::string& path) {
  static std::unique_ptr<Model> model = Model::load(path);
  return *model;
}

GeneratorParams params_of(const nlohmann::json& fixture, const nlohmann::json& c) {
  GeneratorParams params;
  params.kv_type = TensorType::F32;
  params.stop_token_ids = fixture["end_ids"].get<std::vector<int32_t>>();
  params.stop_token_ids_given = true;
  for (const auto& [name, value] : c["params"].items())
    set_search_option(params, name, value.is_boolean() ? double(value.get<bool>()) : value.get<double>());
  return params;
}

TEST(GeneratorSmolLM2, EndTokensAreTheFixturesEndIds) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const auto& fixture = testing::generation_fixture("smollm2.json");
  EXPECT_EQ(smollm2(model_path).tokenizer().end_of_generation_ids(), fixture["end_ids"].get<std::vector<int32_t>>());
}

TEST(GeneratorSmolLM2, GreedyAndProcessorsMatchTransformers) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const Model& model = smollm2(model_path);
  const auto& fixture = testing::generation_fixture("smollm2.json");
  int cases = 0, fully_compared = 0;
  for (const auto& c : fixture["cases"]) {
    if (c["params"].contains("num_beams")) continue;
    const GeneratorParams params = params_of(fixture, c);
    const double tolerance = kLogitTolerance * std::max(1.0f, params.repetition_penalty);
    const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
    const auto expected = c["sequences"][0].get<std::vector<int32_t>>();
    const auto& gaps = c["step_gaps"];
    Generator generator(model, params);
    generator.append_tokens(prompt);
    size_t step = 0;
    for (; step < gaps.size() && gaps[step].get<double>() >= tolerance; ++step) {
      ASSERT_FALSE(generator.is_done()) << c["name"] << " step " << step;
      generator.generate_next_token();
      ASSERT_EQ(generator.sequence(0).back(), expected[prompt.size() + step]) << c["name"] << " step " << step;
    }
    if (step == gaps.size()) {
      ++fully_compared;
      EXPECT_TRUE(generator.is_done()) << c["name"] << ": transformers stopped here";
      EXPECT_EQ(std::vector<int32_t>(generator.sequence(0).begin(), generator.sequence(0).end()), expected);
    }
    std::printf("%-40s %2zu/%2zu steps compared%s\n", c["name"].get<std::string>().c_str(), step, gaps.size(),
                step == gaps.size() ? ", whole sequence equal" : " (then a top-2 gap below the tolerance)");
    ++cases;
  }
  EXPECT_EQ(cases, 12);
  EXPECT_GE(fully_compared, 10);
}

TEST(GeneratorSmolLM2, BeamSearchMatchesTransformers) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const Model& model = smollm2(model_path);
  const auto& fixture = testing::generation_fixture("smollm2.json");
  int cases = 0, compared = 0;
  double worst_score_difference = 0;
  for (const auto& c : fixture["cases"]) {
    if (!c["params"].contains("num_beams")) continue;
    ++cases;
    const double gap = c["min_decision_gap"];
    Generator generator(model, params_of(fixture, c));
    generator.append_tokens(c["prompt_ids"].get<std::vector<int32_t>>());
    while (!generator.is_done()) generator.generate_next_token();
    const auto& sequences = c["sequences"];
    ASSERT_EQ(generator.sequence_count(), int64_t(sequences.size()));
    double score_difference = 0;
    bool same = true;
    for (size_t r = 0; r < sequences.size(); ++r) {
      same =
          same && std::vector<int32_t>(generator.sequence(int64_t(r)).begin(), generator.sequence(int64_t(r)).end()) ==
                      sequences[r].get<std::vector<int32_t>>();
      score_difference =
          std::max(score_difference, std::fabs(generator.sequence_score(int64_t(r)) - c["scores"][r].get<double>()));
    }
    const bool decided = gap > kBeamScoreTolerance;
    std::printf("%-40s closest decision %.2e (%s): %s; max |score diff| %.2e\n", c["name"].get<std::string>().c_str(),
                gap, c["closest_decision"].get<std::string>().c_str(),
                same ? "sequences equal" : (decided ? "SEQUENCES DIFFER" : "sequences differ (allowed: too close)"),
                score_difference);
    if (!decided) continue;
    ++compared;
    EXPECT_TRUE(same) << c["name"];
    EXPECT_LE(score_difference, kBeamScoreTolerance) << c["name"];
    worst_score_difference = std::max(worst_score_difference, score_difference);
  }
  EXPECT_EQ(cases, 12);
  EXPECT_GE(compared, 10) << "too few beam cases clear the tolerance: the fixture no longer tests much";
  std::printf("beam cases compared: %d of %d; worst score difference %.2e\n", compared, cases, worst_score_difference);
}

}  // namespace
}  // namespace phirun
