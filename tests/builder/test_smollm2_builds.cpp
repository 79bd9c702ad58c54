// The default model rebuilt at each precision from its own GGUF, scored on the first chunks of
// wiki.test.raw.406 with llama.cpp's method: a short perplexity with bounds, cheap enough for CI.
// The full-text figures (README) come from the same commands on whole files.
//
// Bounds, with room over the measured two-chunk ratios to the F32-exact source (2026-11-25):
// F16 0.9999 (bound 1.003), Q8_0 1.0003 (1.01), Q4_0 without calibration 1.144 (1.30).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "models/builder/build.h"
#include "runtime/model.h"
#include "runtime/perplexity.h"
#include "tests/common/test_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

std::string wiki_text() {
  std::ifstream in(std::string(PHIRUN_SOURCE_DIR) + "/tests/data/eval-text/wiki.test.raw.406", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

double short_perplexity(const std::string& path) {
  const std::unique_ptr<Model> model = Model::load(path);
  PerplexityOptions options;
  options.context = 512;
  options.max_chunks = 2;
  return compute_perplexity(*model, wiki_text(), "wiki.test.raw.406", options).ppl;
}

TEST(SmolLM2Builds, ShortPerplexityPerPrecision) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  testing::TempDir dir;
  const double source = short_perplexity(model_path);
  EXPECT_NEAR(source, 21.373, 0.01);  // llama-perplexity on llama.cpp's F16 of it: 21.3700 over these chunks
  struct Expected {
    builder::Precision precision;
    double max_ratio;
  };
  for (const Expected& expected : {Expected{builder::Precision::FP16, 1.003}, Expected{builder::Precision::INT8, 1.01},
                                   Expected{builder::Precision::INT4, 1.30}}) {
    builder::BuildOptions options;
    options.input = model_path;
    options.output = dir.file("model.gguf");
    options.force = true;
    options.policy.precision = expected.precision;
    builder::build_model(options);
    const double ppl = short_perplexity(options.output);
    std::printf("[ measured ] %s: PPL %.4f over 2 chunks, ratio to the source %.4f\n",
                std::string(builder::precision_name(expected.precision)).c_str(), ppl, ppl / source);
    EXPECT_LE(ppl / source, expected.max_ratio);
    EXPECT_GE(ppl / source, 0.99);
  }
}

}  // namespace
}  // namespace phirun
