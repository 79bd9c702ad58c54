// runtime/perplexity against a direct computation from the session's logits: the same chunks,
// the same scored positions (second half of each chunk), BOS in place of each chunk's first token
// when the model adds one, and llama-perplexity's error estimate.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/model.h"
#include "runtime/perplexity.h"
#include "runtime/session.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

std::string sample_text() {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "Line " + std::to_string(i * 7) + ": the quick brown fox jumps over the dog.\n";
  return text;
}

// Negative log-likelihoods of every scored token, computed here from the session directly.
std::vector<double> direct_nll(const Model& model, const std::string& text, int64_t context,
                               ActivationPrecision activations = ActivationPrecision::Int16) {
  std::vector<int32_t> tokens = model.tokenizer().encode(text, false);
  const auto& vocab = model.tokenizer().vocab();
  std::vector<double> nll;
  SessionOptions options;
  options.context_length = context;
  options.activations = activations;
  const int64_t n_vocab = model.config().vocab_size;
  for (size_t start = 0; start + size_t(context) <= tokens.size(); start += size_t(context)) {
    std::vector<int32_t> chunk(tokens.begin() + int64_t(start), tokens.begin() + int64_t(start) + context);
    if (vocab.add_bos) chunk[0] = vocab.bos_id;
    Session session(model, options);
    const std::vector<float> logits = session.append_all_logits(chunk);
    for (int64_t i = context / 2; i < context - 1; ++i) {
      const float* row = logits.data() + i * n_vocab;
      double max = row[0], sum = 0;
      for (int64_t v = 0; v < n_vocab; ++v) max = std::max(max, double(row[v]));
      for (int64_t v = 0; v < n_vocab; ++v) sum += std::exp(row[v] - max);
      nll.push_back(max + std::log(sum) - row[chunk[size_t(i + 1)]]);
    }
  }
  return nll;
}

void expect_matches(const std::string& path, ActivationPrecision activations = ActivationPrecision::Int16) {
  const std::unique_ptr<Model> model = Model::load(path);
  PerplexityOptions options;
  options.context = 32;
  options.kv_type = TensorType::F16;
  options.activations = activations;
  const std::vector<double> nll = direct_nll(*model, sample_text(), 32, activations);
  const PerplexityResult result = compute_perplexity(*model, sample_text(), "sample", options);
  ASSERT_EQ(result.scored_tokens, int64_t(nll.size()));
  double sum = 0, sum2 = 0;
  for (double value : nll) sum += value, sum2 += value * value;
  const double mean = sum / double(nll.size());
  EXPECT_NEAR(result.ppl, std::exp(mean), 1e-9 * std::exp(mean));
  const double error = std::sqrt((sum2 / double(nll.size()) - mean * mean) / double(nll.size() - 1)) * std::exp(mean);
  EXPECT_NEAR(result.ppl_error, error, 1e-6 * error);
  EXPECT_EQ(result.chunks, result.text_tokens / 32);
}

TEST(Perplexity, MatchesADirectComputation) {
  testing::TempDir dir;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"));
  expect_matches(dir.file("tiny.gguf"));
}

// --accuracy reaches the session: each activation precision matches the session run with it (the
// tiny model's matrices are Q4_1, so the three paths give different logits), and float differs
// from int8.
TEST(Perplexity, UsesTheAskedActivationPrecision) {
  testing::TempDir dir;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"));
  for (const ActivationPrecision activations :
       {ActivationPrecision::Float, ActivationPrecision::Int16, ActivationPrecision::Int8})
    expect_matches(dir.file("tiny.gguf"), activations);
  const std::unique_ptr<Model> model = Model::load(dir.file("tiny.gguf"));
  PerplexityOptions options;
  options.context = 32;
  options.activations = ActivationPrecision::Float;
  const double float_ppl = compute_perplexity(*model, sample_text(), "sample", options).ppl;
  options.activations = ActivationPrecision::Int8;
  EXPECT_NE(float_ppl, compute_perplexity(*model, sample_text(), "sample", options).ppl);
}

TEST(Perplexity, ReplacesEachChunksFirstTokenWithBosWhenTheModelAddsOne) {
  testing::TempDir dir;
  testing::TinyModelOptions tiny;
  tiny.override_keys = {{"tokenizer.ggml.add_bos_token", GgufValue::of_bool(true)},
                        {"tokenizer.ggml.bos_token_id", GgufValue::of_u32(testing::kTinyImStartId)}};
  testing::write_tiny_llama_gguf(dir.file("bos.gguf"), tiny);
  const std::unique_ptr<Model> model = Model::load(dir.file("bos.gguf"));
  ASSERT_TRUE(model->tokenizer().vocab().add_bos);
  expect_matches(dir.file("bos.gguf"));
  PerplexityOptions options;
  options.context = 32;
  EXPECT_TRUE(compute_perplexity(*model, sample_text(), "sample", options).add_bos);
}

TEST(Perplexity, ABaseFileFromOtherTokensIsRefused) {
  testing::TempDir dir;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"));
  const std::unique_ptr<Model> model = Model::load(dir.file("tiny.gguf"));
  PerplexityOptions options;
  options.context = 32;
  options.kld_base = dir.file("base.bin");
  EXPECT_TRUE(compute_perplexity(*model, sample_text(), "sample", options).wrote_base);
  const PerplexityResult same = compute_perplexity(*model, sample_text(), "sample", options);
  ASSERT_TRUE(same.kld);
  EXPECT_LT(std::fabs(same.kld->mean), 1e-4);
  EXPECT_EQ(same.kld->same_top, 1.0);
  try {
    compute_perplexity(*model, "Other words entirely. " + sample_text(), "other", options);
    FAIL() << "accepted a base made from other tokens";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("was made from other tokens"), std::string::npos) << error.what();
  }
  options.context = 16;
  try {
    compute_perplexity(*model, sample_text(), "sample", options);
    FAIL() << "accepted a base made with another context";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("made with context 32, this run uses 16"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace phirun
