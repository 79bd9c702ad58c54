// The Phi family's long-context features against transformers 5.24 on random-weight fixtures
// (tests/fixtures/make_arch_fixtures.py): sliding-window attention on prompts longer than the
// window, LongRoPE on prompts and generations that cross original_max_position_embeddings
// (Phi-3.5-mini's head_dim 96, Phi-4-mini's partial rotary 0.75 and head_dim 128), Mistral's
// sliding window (a `llama` file with attention.sliding_window), and issue 7's
// generation-exactness cases on phi3-tiny. Every checkpoint is built at FP32 and run with an F32
// KV cache, so both sides compute float32 from the same weights in a different order.
//
// Tolerances: logits (top-20 per position and the log-sum-exp) within 2e-4; measured worst cases
// are printed ([ measured ]). LongRoPE angles are position * inverse frequency in float32 on both
// sides; cos/sin are taken in double here and in float32 by torch, and multiplied by the
// attention factor (1.7): a few ulps at the positions used. Greedy ids are compared step by step
// while transformers' top-2 gap clears the logit tolerance (as test_generator_smollm2.cpp does).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "kernels/cpu/cpu_ops.h"
#include "models/builder/build.h"
#include "models/builder/hf_config.h"
#include "models/llama.h"
#include "runtime/generator.h"
#include "runtime/gguf.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tests/builder/hf_fixture.h"
#include "tests/common/test_model.h"
#include "tests/runtime/temp_dir.h"
#include "tests/search/fixture_json.h"

namespace phirun {
namespace {

constexpr double kLogitTolerance = 2e-4;
constexpr double kBeamScoreTolerance = 1e-3;  // as test_generator_smollm2.cpp

// Builds the fixture at FP32 into `dir`; nullptr when SmolLM2's tokenizer (the default model) is
// needed and missing.
std::unique_ptr<Model> build_fixture(const std::string& name, testing::TempDir& dir) {
  const std::string checkpoint = dir.file(name);
  if (!testing::make_fixture_checkpoint(name, checkpoint, testing::default_model_path_for_tests())) return nullptr;
  builder::BuildOptions options;
  options.input = checkpoint;
  options.output = dir.file(name + ".gguf");
  options.force = true;
  options.policy.precision = builder::Precision::FP32;
  options.threads = 2;
  builder::build_model(options);
  return Model::load(options.output);
}

// Largest |phirun - transformers| over the reference's top-20 logits and log-sum-exp of a prompt.
double max_logit_difference(const Model& model, const nlohmann::json& prompt) {
  SessionOptions options;
  options.kv_type = TensorType::F32;
  Session session(model, options);
  const auto ids = prompt["ids"].get<std::vector<int32_t>>();
  const std::vector<float> logits = session.append_all_logits(ids);
  const int64_t vocab = model.config().vocab_size;
  double worst = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float* row = logits.data() + t * size_t(vocab);
    for (const auto& pair : prompt["positions"][t]["top"])
      worst = std::max(worst, std::fabs(double(row[pair[0].get<int>()]) - pair[1].get<double>()));
    double max_logit = row[0];
    for (int64_t i = 1; i < vocab; ++i) max_logit = std::max(max_logit, double(row[i]));
    double sum = 0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(row[i]) - max_logit);
    worst = std::max(worst, std::fabs(max_logit + std::log(sum) - prompt["positions"][t]["logsumexp"].get<double>()));
  }
  return worst;
}

// Compares a fixture's logits on every reference prompt and greedy steps (through the Generator,
// with its multi-sequence KV cache and, for a window, a ring, and through a Session fed one token
// at a time) with transformers'. Returns the position reached by the compared steps.
size_t expect_matches_transformers(const std::string& name, const Model& model, const nlohmann::json& reference) {
  for (const auto& prompt : reference["prompts"]) {
    const double worst = max_logit_difference(model, prompt);
    std::printf("[ measured ] %s: max |logit diff| %.3g over %zu positions\n", name.c_str(), worst,
                prompt["ids"].size());
    EXPECT_LE(worst, kLogitTolerance);
  }
  const auto& greedy = reference["greedy"];
  const auto prompt = greedy["prompt_ids"].get<std::vector<int32_t>>();
  const auto expected = greedy["sequence"].get<std::vector<int32_t>>();
  const auto& gaps = greedy["step_gaps"];
  GeneratorParams params;
  params.kv_type = TensorType::F32;
  params.max_length = int64_t(expected.size());
  params.stop_token_ids_given = true;  // none: transformers ran without end ids
  Generator generator(model, params);
  generator.append_tokens(prompt);
  SessionOptions options;
  options.kv_type = TensorType::F32;
  Session session(model, options);
  std::span<const float> last = session.append(prompt);
  size_t step = 0;
  for (; step < gaps.size() && gaps[step].get<double>() >= kLogitTolerance; ++step) {
    EXPECT_FALSE(generator.is_done());
    if (generator.is_done()) break;
    generator.generate_next_token();
    const int32_t want = expected[prompt.size() + step];
    EXPECT_EQ(generator.sequence(0).back(), want) << name << " Generator, step " << step;
    const auto argmax = int32_t(std::max_element(last.begin(), last.end()) - last.begin());
    EXPECT_EQ(argmax, want) << name << " Session, step " << step;
    if (generator.sequence(0).back() != want || argmax != want) break;
    last = session.append(std::span<const int32_t>(&want, 1));
  }
  std::printf("[ measured ] %s greedy: %zu of %zu steps compared (to position %zu)\n", name.c_str(), step, gaps.size(),
              prompt.size() + step);
  EXPECT_GE(step, gaps.size() / 2) << "too few steps clear the tolerance: the fixture no longer tests much";
  return prompt.size() + step;
}

std::unique_ptr<Model> build_fixture_or_skip(const std::string& name, testing::TempDir& dir) {
  std::unique_ptr<Model> model = build_fixture(name, dir);
  if (!model && testing::model_is_required())
    ADD_FAILURE() << "the default model is needed for SmolLM2's tokenizer.json";
  return model;
}

class LongContext : public ::testing::TestWithParam<std::string> {};

TEST_P(LongContext, LogitsAndGreedyIdsMatchTransformers) {
  const std::string name = GetParam();
  testing::TempDir dir;
  const std::unique_ptr<Model> model = build_fixture_or_skip(name, dir);
  if (!model) GTEST_SKIP() << "the default model (for SmolLM2's tokenizer.json) is missing: run scripts/fetch-model.sh";
  const nlohmann::json reference = testing::fixture_reference(name);
  const ModelConfig& config = model->config();
  if (name.find("window") != std::string::npos) {
    ASSERT_GT(config.sliding_window, 0);
    EXPECT_GT(int64_t(reference["prompts"][1]["ids"].size()), config.sliding_window) << "the prompt must cross it";
  } else {
    ASSERT_FALSE(config.rope_factors_long.empty());
    EXPECT_EQ(int64_t(config.rope_factors_long.size()), config.rope.rotary_dims / 2);
    EXPECT_LT(int64_t(reference["prompts"][0]["ids"].size()), config.rope_original_context);
    EXPECT_GT(int64_t(reference["prompts"][1]["ids"].size()), config.rope_original_context);
  }
  const size_t reached = expect_matches_transformers(name, *model, reference);
  EXPECT_GT(int64_t(reached), config.sliding_window > 0 ? config.sliding_window : config.rope_original_context)
      << "the compared steps must cross the window / the LongRoPE switch";
}

// Qwen2 (Q/K/V biases, RoPE on halves, `qwen2` GGUF) and Gemma (GeGLU, embedding scale, RMSNorm
// weight + 1, head_dim from the config, `gemma` GGUF): the same comparison without a window or
// LongRoPE.
class Architecture : public ::testing::TestWithParam<std::string> {};

TEST_P(Architecture, LogitsAndGreedyIdsMatchTransformers) {
  const std::string name = GetParam();
  testing::TempDir dir;
  const std::unique_ptr<Model> model = build_fixture_or_skip(name, dir);
  if (!model) GTEST_SKIP() << "the default model (for SmolLM2's tokenizer.json) is missing: run scripts/fetch-model.sh";
  const nlohmann::json reference = testing::fixture_reference(name);
  const ModelConfig& config = model->config();
  if (name.starts_with("qwen2")) {
    EXPECT_EQ(config.architecture, "qwen2");
    EXPECT_TRUE(config.qkv_bias);
    EXPECT_EQ(config.sliding_window, 0) << "Qwen2's sliding_window is off without use_sliding_window";
  }
  if (name.starts_with("gemma")) {
    EXPECT_EQ(config.architecture, "gemma");
    EXPECT_TRUE(config.gelu_mlp);
    EXPECT_EQ(config.head_dim, 256) << "head_dim comes from the config, not hidden / heads";
    EXPECT_FLOAT_EQ(config.embedding_scale, std::sqrt(float(config.hidden_size)));
  }
  expect_matches_transformers(name, *model, reference);
}

// The ring: a Session's sliding-window cache holds window + 255 positions; 700 tokens fed as a
// 300-token prefill and then one by one wrap it twice. The logits equal those of the same
// forward pass over a cache that holds every position (the window masking alone), up to the
// summation order of the two runs of a wrapped ring (float rounding: 1e-4).
TEST(SlidingWindow, RingCacheEqualsAFullCacheWithTheSameWindow) {
  testing::TempDir dir;
  const std::unique_ptr<Model> model = build_fixture("phi3-window-tiny", dir);
  ASSERT_TRUE(model);
  const ModelConfig& config = model->config();
  std::vector<int32_t> tokens(700);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 7919 + 13) % 32000);

  SessionOptions options;
  options.kv_type = TensorType::F32;
  Session session(*model, options);
  CpuOps ops(model->thread_pool());
  LlamaForward forward(config, model->weights(), ops);
  const int64_t positions = int64_t(tokens.size());
  const size_t half = size_t(config.n_kv_heads * positions * config.head_dim);
  std::vector<std::vector<float>> storage(size_t(config.n_layers), std::vector<float>(2 * half));
  std::vector<KvLayerView> full;
  for (auto& layer : storage)
    full.push_back({TensorType::F32, config.n_kv_heads, positions, config.head_dim, layer.data(), layer.data() + half});
  std::vector<float> expected(size_t(config.vocab_size));
  double worst = 0;
  for (int64_t begin = 0; begin < positions;) {
    const int64_t n = begin == 0 ? 300 : 1;
    const auto piece = std::span<const int32_t>(tokens).subspan(size_t(begin), size_t(n));
    const std::span<const float> actual = session.append(piece);
    forward.forward(piece, begin, full, LogitsFor::LastToken, expected.data());
    for (int64_t i = 0; i < config.vocab_size; ++i)
      worst = std::max(worst, std::fabs(double(actual[size_t(i)]) - double(expected[size_t(i)])));
    begin += n;
  }
  std::printf("[ measured ] ring vs full cache over 700 positions: max |logit diff| %.3g\n", worst);
  EXPECT_LT(session.kv_cache_bytes(), uint64_t(2 * config.n_layers * config.n_kv_heads * config.head_dim * 4 * 300))
      << "the cache holds the ring only";
  EXPECT_LE(worst, 1e-4);
}

// LongRopePolicy::Reprefill (the default, as transformers' Phi-3 generate): a prompt fed in two
// calls, the first within the original context (short factors) and the second past it, gives
// the logits of one prefill of the whole prompt under the long factors (transformers' logits of
// the long prompt); KeepCache (a bare forward with a cache) does not.
TEST(LongRopePolicy, ReprefillGivesTheLogitsOfAFreshPrefill) {
  testing::TempDir dir;
  const std::unique_ptr<Model> model = build_fixture("phi3-longrope-tiny", dir);
  ASSERT_TRUE(model);
  const nlohmann::json prompt = testing::fixture_reference("phi3-longrope-tiny")["prompts"][1];
  const auto ids = prompt["ids"].get<std::vector<int32_t>>();
  const int64_t split = model->config().rope_original_context - 8;
  const int64_t vocab = model->config().vocab_size;
  auto tail_difference = [&](LongRopePolicy policy) {
    SessionOptions options;
    options.kv_type = TensorType::F32;
    options.long_rope = policy;
    Session session(*model, options);
    session.append(std::span<const int32_t>(ids).first(size_t(split)));
    const std::vector<float> logits = session.append_all_logits(std::span<const int32_t>(ids).subspan(size_t(split)));
    double worst = 0;
    for (size_t t = size_t(split); t < ids.size(); ++t)
      for (const auto& pair : prompt["positions"][t]["top"])
        worst = std::max(worst, std::fabs(double(logits[(t - size_t(split)) * size_t(vocab) + pair[0].get<size_t>()]) -
                                          pair[1].get<double>()));
    return worst;
  };
  const double reprefill = tail_difference(LongRopePolicy::Reprefill);
  const double keep = tail_difference(LongRopePolicy::KeepCache);
  std::printf("[ measured ] split prompt vs one prefill: reprefill %.3g, keep cache %.3g\n", reprefill, keep);
  EXPECT_LE(reprefill, kLogitTolerance);
  EXPECT_GT(keep, 100 * kLogitTolerance) << "the short-rotated cache should show";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Architecture, ::testing::Values("qwen2-tiny", "gemma-tiny"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string text = param.param;
                           for (char& c : text)
                             if (c == '-') c = '_';
                           return text;
                         });

INSTANTIATE_TEST_SUITE_P(Fixtures, LongContext,
                         ::testing::Values("phi3-window-tiny", "phi3-longrope-tiny", "phi4mini-longrope-tiny",
                                           "mistral-window-tiny"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string text = param.param;
                           for (char& c : text)
                             if (c == '-') c = '_';
                           return text;
                         });

// llama.cpp interop: llama.cpp's own conversion of Phi-3-mini-4k (its vocab-only
// models/ggml-vocab-phi-3.gguf, hyper-parameters included) loads as Phi-3-mini, and every `phi3.*`
// key in it is one phirun's builder writes too, with the same type.
TEST(LlamaCppInterop, Phi3KeysMatchLlamaCppsConversion) {
  const GgufFile reference = GgufFile::open("tests/data/ggml-vocab/ggml-vocab-phi-3.gguf");
  const ModelConfig config = config_from_gguf(reference);
  EXPECT_EQ(config.architecture, "phi3");
  EXPECT_EQ(config.n_layers, 32);
  EXPECT_EQ(config.hidden_size, 3072);
  EXPECT_EQ(config.n_heads, 32);
  EXPECT_EQ(config.n_kv_heads, 32);
  EXPECT_EQ(config.head_dim, 96);
  EXPECT_EQ(config.ffn_size, 8192);
  EXPECT_EQ(config.context_length, 4096);
  EXPECT_EQ(config.rope.rotary_dims, 96);
  EXPECT_EQ(config.rope.pairing, RopePairing::Halves);
  EXPECT_TRUE(config.fused_qkv && config.fused_gate_up);
  EXPECT_TRUE(config.rope_factors_long.empty());

  testing::TempDir dir;
  ASSERT_TRUE(build_fixture("phi3-tiny", dir));
  const GgufFile ours = GgufFile::open(dir.file("phi3-tiny.gguf"));
  int compared = 0;
  for (const auto& [key, value] : reference.metadata()) {
    if (!key.starts_with("phi3.")) continue;
    const GgufValue* mine = ours.find(key);
    ASSERT_NE(mine, nullptr) << key << " is written by llama.cpp's converter but not by phirun's builder";
    EXPECT_EQ(mine->type, value.type) << key;
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

// Bad Phi-3 configs: one clear error naming config.json and the problem.
TEST(Phi3Config, InconsistentFieldsAreRefused) {
  const nlohmann::json base = nlohmann::json::parse(
      R"({"architectures": ["Phi3ForCausalLM"], "hidden_size": 192, "intermediate_size": 256,
          "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 32064,
          "max_position_embeddings": 131072, "original_max_position_embeddings": 48,
          "rope_scaling": {"type": "longrope", "long_factor": [], "short_factor": []}})");
  auto with = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json config = base;
    config["rope_scaling"]["long_factor"] = std::vector<double>(48, 1.0);
    config["rope_scaling"]["short_factor"] = std::vector<double>(48, 1.0);
    edit(config);
    return config.dump();
  };
  EXPECT_NO_THROW(builder::parse_hf_config(with([](nlohmann::json&) {}), "config.json"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with([](nlohmann::json& c) { c["rope_scaling"]["long_factor"] = std::vector<double>(47, 1.0); }),
       "LongRoPE factor lists must have rotary_dims / 2 = 48 entries, found 47 and 48"},
      {with([](nlohmann::json& c) { c["rope_scaling"]["type"] = "yarn"; }),
       "RoPE scaling type 'yarn' is not supported for Phi3ForCausalLM"},
      {with([](nlohmann::json& c) { c.erase("original_max_position_embeddings"); }),
       "LongRoPE scaling needs 'original_max_position_embeddings'"},
      {with([](nlohmann::json& c) { c["num_key_value_heads"] = 3; }),
       "num_key_value_heads 3 does not divide num_attention_heads 2"},
      {with([](nlohmann::json& c) { c["rope_scaling"].erase("short_factor"); }),
       "LongRoPE scaling has no 'short_factor' list"},
  };
  for (const auto& [json, expected] : cases) {
    try {
      builder::parse_hf_config(json, "config.json");
      ADD_FAILURE() << "accepted; expected: " << expected;
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind("config.json: ", 0), 0u) << message;
      EXPECT_NE(message.find(expected), std::string::npos) << "expected \"" << expected << "\" in: " << message;
    }
  }
}

GeneratorParams params_of(const nlohmann::json& fixture, const nlohmann::json& c) {
  GeneratorParams params;
  params.kv_type = TensorType::F32;
  params.stop_token_ids = fixture["end_ids"].get<std::vector<int32_t>>();
  params.stop_token_ids_given = true;
  for (const auto& [key, value] : c["params"].items())
    set_search_option(params, key, value.is_boolean() ? double(value.get<bool>()) : value.get<double>());
  return params;
}

// Issue 7 on Phi-3: the search options give transformers.generate's ids on phi3-tiny.
TEST(Phi3Generation, SearchOptionsMatchTransformers) {
  testing::TempDir dir;
  const std::unique_ptr<Model> model = build_fixture("phi3-tiny", dir);
  ASSERT_TRUE(model);
  const auto& fixture = testing::generation_fixture("phi3_tiny.json");
  int greedy_cases = 0, greedy_full = 0, beam_cases = 0, beam_compared = 0;
  for (const auto& c : fixture["cases"]) {
    const GeneratorParams params = params_of(fixture, c);
    const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
    Generator generator(*model, params);
    generator.append_tokens(prompt);
    if (!c["params"].contains("num_beams")) {
      ++greedy_cases;
      const double tolerance = kLogitTolerance * std::max(1.0f, params.repetition_penalty);
      const auto expected = c["sequences"][0].get<std::vector<int32_t>>();
      const auto& gaps = c["step_gaps"];
      size_t step = 0;
      for (; step < gaps.size() && gaps[step].get<double>() >= tolerance; ++step) {
        ASSERT_FALSE(generator.is_done()) << c["name"] << " step " << step;
        generator.generate_next_token();
        ASSERT_EQ(generator.sequence(0).back(), expected[prompt.size() + step]) << c["name"] << " step " << step;
      }
      if (step == gaps.size()) {
        ++greedy_full;
        EXPECT_TRUE(generator.is_done()) << c["name"];
        EXPECT_EQ(std::vector<int32_t>(generator.sequence(0).begin(), generator.sequence(0).end()), expected);
      }
      std::printf("%-40s %2zu/%2zu steps compared\n", c["name"].get<std::string>().c_str(), step, gaps.size());
      continue;
    }
    ++beam_cases;
    while (!generator.is_done()) generator.generate_next_token();
    const auto& sequences = c["sequences"];
    ASSERT_EQ(generator.sequence_count(), int64_t(sequences.size()));
    bool same = true;
    double score_difference = 0;
    for (size_t r = 0; r < sequences.size(); ++r) {
      same =
          same && std::vector<int32_t>(generator.sequence(int64_t(r)).begin(), generator.sequence(int64_t(r)).end()) ==
                      sequences[r].get<std::vector<int32_t>>();
      score_difference =
          std::max(score_difference, std::fabs(generator.sequence_score(int64_t(r)) - c["scores"][r].get<double>()));
    }
    const double gap = c["min_decision_gap"];
    std::printf("%-40s closest decision %.2e: %s; max |score diff| %.2e\n", c["name"].get<std::string>().c_str(), gap,
                same ? "sequences equal" : "sequences differ", score_difference);
    if (gap <= kBeamScoreTolerance) continue;
    ++beam_compared;
    EXPECT_TRUE(same) << c["name"];
    EXPECT_LE(score_difference, kBeamScoreTolerance) << c["name"];
  }
  EXPECT_EQ(greedy_cases, 8);
  EXPECT_EQ(beam_cases, 8);
  EXPECT_GE(greedy_full, 6);
  EXPECT_GE(beam_compared, 6) << "too few beam cases clear the tolerance: the fixture no longer tests much";
}

}  // namespace
}  // namespace phirun
