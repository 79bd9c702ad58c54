// Whole builds on small checkpoints: what the file holds (names, types, keys, sizes), that random
// weights equal the checkpoint they describe, that a GGUF re-quantized to F32 keeps every value,
// progress reports, cancellation without leftovers, and calibration statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "models/builder/build.h"
#include "models/builder/calibration.h"
#include "models/builder/random_weights.h"
#include "runtime/gguf.h"
#include "runtime/model.h"
#include "tests/builder/hf_fixture.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

namespace fs = std::filesystem;
using builder::Precision;

// A Llama- or Phi-3-shaped checkpoint with Phi-3's tokenizer files (committed, so no default model
// is needed), F32 weights from the random formula.
std::string small_checkpoint(const testing::TempDir& dir, const std::string& architecture, uint64_t seed = 5) {
  const std::string folder = dir.file(architecture);
  fs::create_directories(folder);
  for (const char* file : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    fs::copy_file(testing::fixture_folder("phi3-tiny") + "/" + file, folder + "/" + file);
  nlohmann::json config = {{"architectures", {architecture == "llama" ? "LlamaForCausalLM" : "Phi3ForCausalLM"}},
                           {"hidden_size", 64},
                           {"intermediate_size", 96},
                           {"num_hidden_layers", 2},
                           {"num_attention_heads", 4},
                           {"num_key_value_heads", 2},
                           {"vocab_size", 32064},
                           {"max_position_embeddings", 1024},
                           {"rms_norm_eps", 1e-5},
                           {"tie_word_embeddings", architecture == "llama"}};
  std::ofstream(folder + "/config.json") << config.dump(1);
  testing::write_random_checkpoint(folder, seed, "F32", 1);
  return folder;
}

builder::BuildSummary build(const std::string& input, const std::string& output, Precision precision,
                            TensorType int4_type = TensorType::Q4_0) {
  builder::BuildOptions options;
  options.input = input;
  options.output = output;
  options.policy.precision = precision;
  options.policy.int4_type = int4_type;
  options.threads = 2;
  return builder::build_model(options);
}

TEST(Build, PrecisionsGiveTheirTypesAndSizes) {
  testing::TempDir dir;
  const std::string checkpoint = small_checkpoint(dir, "phi3");
  struct Expected {
    Precision precision;
    TensorType int4_type, matrices, head;
    uint32_t file_type;
  };
  for (const Expected& expected :
       {Expected{Precision::FP32, TensorType::Q4_0, TensorType::F32, TensorType::F32, 0},
        Expected{Precision::FP16, TensorType::Q4_0, TensorType::F16, TensorType::F16, 1},
        Expected{Precision::BF16, TensorType::Q4_0, TensorType::BF16, TensorType::BF16, 32},
        Expected{Precision::INT8, TensorType::Q4_0, TensorType::Q8_0, TensorType::Q8_0, 7},
        Expected{Precision::INT4, TensorType::Q4_0, TensorType::Q4_0, TensorType::Q8_0, 2},
        Expected{Precision::INT4, TensorType::Q4_1, TensorType::Q4_1, TensorType::Q8_0, 3}}) {
    const std::string output = dir.file("model.gguf");
    fs::remove(output);
    const builder::BuildSummary summary = build(checkpoint, output, expected.precision, expected.int4_type);
    const GgufFile file = GgufFile::open(output);
    EXPECT_EQ(file.get_uint("general.file_type"), expected.file_type);
    EXPECT_EQ(file.find_tensor("blk.1.attn_qkv.weight")->type, expected.matrices);
    EXPECT_EQ(file.find_tensor("blk.0.ffn_up.weight")->ne[1], 2 * 96);  // gate and up stay fused
    EXPECT_EQ(file.find_tensor("output.weight")->type, expected.head);
    EXPECT_EQ(file.find_tensor("token_embd.weight")->type, expected.head);
    EXPECT_EQ(file.find_tensor("blk.0.attn_norm.weight")->type, TensorType::F32);
    // The file is its header plus each tensor's bytes (padded to 32): nothing else.
    uint64_t data = 0;
    for (const GgufTensor& tensor : file.tensors()) data += (tensor.n_bytes + 31) / 32 * 32;
    EXPECT_EQ(file.file_size(), file.data_offset() + data);
    EXPECT_EQ(summary.file_bytes, file.file_size());
    EXPECT_EQ(summary.parameters, 2 * 32064 * 64 + 2 * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 96 + 2 * 64) + 64);
  }
}

TEST(Build, RandomWeightsEqualTheCheckpointTheyDescribe) {
  testing::TempDir dir;
  for (const std::string architecture : {"llama", "phi3"}) {
    const std::string checkpoint = small_checkpoint(dir, architecture, 77);
    build(checkpoint, dir.file(architecture + "-hf.gguf"), Precision::FP32);
    builder::BuildOptions options;
    options.random_weights = true;
    options.random_config = checkpoint + "/config.json";
    options.seed = 77;
    options.output = dir.file(architecture + "-random.gguf");
    options.policy.precision = Precision::FP32;
    builder::build_model(options);
    const GgufFile from_checkpoint = GgufFile::open(dir.file(architecture + "-hf.gguf"));
    const GgufFile random = GgufFile::open(options.output);
    EXPECT_TRUE(random.get_bool("phirun.random_weights"));
    ASSERT_EQ(random.tensors().size(), from_checkpoint.tensors().size());
    for (const GgufTensor& tensor : random.tensors()) {
      const GgufTensor* other = from_checkpoint.find_tensor(tensor.name);
      ASSERT_TRUE(other) << tensor.name;
      ASSERT_EQ(tensor.n_bytes, other->n_bytes) << tensor.name;
      // Llama's Q and K rows are permuted the same way on both paths.
      EXPECT_EQ(std::memcmp(tensor.data, other->data, tensor.n_bytes), 0) << architecture << " " << tensor.name;
    }
  }
}

TEST(Build, LlamaQueryRowsArePermutedAsLlamaCppDoes) {
  testing::TempDir dir;
  const std::string checkpoint = small_checkpoint(dir, "llama", 3);
  build(checkpoint, dir.file("model.gguf"), Precision::FP32);
  const GgufFile file = GgufFile::open(dir.file("model.gguf"));
  const GgufTensor* q = file.find_tensor("blk.0.attn_q.weight");
  // Head h, output row 2i + s holds checkpoint row h*16 + s*8 + i (head_dim 16).
  std::vector<float> source(64);
  for (int64_t row : {0, 1, 2, 3, 17, 63}) {
    const int64_t head = row / 16, local = row % 16;
    builder::random_rows("model.layers.0.self_attn.q_proj.weight", 3, false, 64,
                         head * 16 + (local % 2) * 8 + local / 2, 1, source.data());
    EXPECT_EQ(std::memcmp(q->data + row * 64 * 4, source.data(), 64 * 4), 0) << "row " << row;
  }
}

TEST(Build, GgufToF32KeepsEveryValueAndKey) {
  testing::TempDir dir;
  testing::TinyModelOptions tiny;
  tiny.matrix_type = TensorType::Q4_1;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"), tiny);
  build(dir.file("tiny.gguf"), dir.file("f32.gguf"), Precision::FP32);
  const GgufFile original = GgufFile::open(dir.file("tiny.gguf"));
  const GgufFile converted = GgufFile::open(dir.file("f32.gguf"));
  for (const auto& [key, value] : original.metadata()) {
    if (key == "general.file_type") continue;
    ASSERT_TRUE(converted.find(key)) << key;
    EXPECT_EQ(converted.find(key)->string_items, value.string_items) << key;
  }
  for (const GgufTensor& tensor : original.tensors()) {
    const GgufTensor* f32 = converted.find_tensor(tensor.name);
    ASSERT_TRUE(f32);
    EXPECT_EQ(f32->type, TensorType::F32);
    std::vector<float> expected(tensor.n_elements);
    type_traits(tensor.type).dequantize(tensor.data, expected.data(), int64_t(tensor.n_elements));
    EXPECT_EQ(std::memcmp(f32->data, expected.data(), tensor.n_elements * 4), 0) << tensor.name;
  }
}

TEST(Build, ReportsProgressAndStopsCleanlyWhenCancelled) {
  testing::TempDir dir;
  const std::string checkpoint = small_checkpoint(dir, "phi3");
  std::atomic<bool> cancel{false};
  std::vector<builder::BuildProgress> reports;
  builder::BuildOptions options;
  options.input = checkpoint;
  options.output = dir.file("model.gguf");
  options.policy.precision = Precision::INT4;
  options.on_progress = [&](const builder::BuildProgress& progress) { reports.push_back(progress); };
  builder::build_model(options);
  ASSERT_FALSE(reports.empty());
  for (size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].bytes_written, reports[i - 1].bytes_written);
    EXPECT_GE(reports[i].done, reports[i - 1].done);
  }
  EXPECT_EQ(reports.back().done, reports.back().total);
  EXPECT_EQ(reports.back().bytes_written, reports.back().bytes_total);

  fs::remove(options.output);
  options.cancel = &cancel;
  options.on_progress = [&](const builder::BuildProgress& progress) {
    if (progress.done >= 3) cancel.store(true);
  };
  try {
    builder::build_model(options);
    FAIL() << "a cancelled build returned";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("interrupted"), std::string::npos) << error.what();
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"phi3"});  // no output, no temporary file
}

TEST(Calibration, StatisticsAreTheMeanSquaresOfEachMatmulsInput) {
  testing::TempDir dir;
  testing::TinyModelOptions tiny;
  tiny.matrix_type = TensorType::F32;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"), tiny);
  const std::string text = "The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstuvwxyz!";
  std::ofstream(dir.file("text.txt")) << text << text << text;
  const std::unique_ptr<Model> model = Model::load(dir.file("tiny.gguf"));
  builder::CalibrationOptions options;
  options.context = 16;
  options.max_chunks = 2;
  const builder::ActivationStats stats = builder::collect_activation_stats(*model, dir.file("text.txt"), options);
  EXPECT_EQ(stats.chunks, 2);
  EXPECT_EQ(stats.tokens, 32);
  // Every matrix the forward pass multiplies has statistics, one per input column.
  for (const std::string name : {"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "token_embd.weight"}) {
    ASSERT_TRUE(stats.mean_squares.count(name)) << name;
  }
  EXPECT_EQ(stats.mean_squares.at("blk.1.ffn_down.weight").size(), size_t(tiny.ffn_size));
  // Layer 0's Q, K and V all see rms_norm(embedding) * attn_norm: check it by hand.
  const std::vector<int32_t> tokens = model->tokenizer().encode(text + text + text, false);
  const ModelWeights& weights = model->weights();
  const int64_t hidden = model->config().hidden_size;
  std::vector<double> expected(static_cast<size_t>(hidden), 0.0);
  std::vector<float> row(static_cast<size_t>(hidden));
  for (int t = 0; t < 32; ++t) {
    // From the file: the loaded model's embedding may be the head's repacked copy.
    const auto* table = reinterpret_cast<const float*>(model->file().find_tensor("token_embd.weight")->data);
    double sum = 0;
    for (int64_t j = 0; j < hidden; ++j)
      sum += double(table[tokens[size_t(t)] * hidden + j]) * table[tokens[size_t(t)] * hidden + j];
    const double inverse_rms = 1.0 / std::sqrt(sum / double(hidden) + double(model->config().rms_eps));
    for (int64_t j = 0; j < hidden; ++j) {
      const double x = table[tokens[size_t(t)] * hidden + j] * inverse_rms * weights.layers[0].attn_norm[size_t(j)];
      expected[size_t(j)] += x * x / 32.0;
    }
  }
  for (const std::string name : {"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight"})
    for (int64_t j = 0; j < hidden; ++j)
      EXPECT_NEAR(stats.mean_squares.at(name)[size_t(j)], expected[size_t(j)], 1e-5 * (1 + expected[size_t(j)]))
          << name << " column " << j;
}

TEST(Calibration, ABuildWithCalibrationRuns) {
  testing::TempDir dir;
  testing::TinyModelOptions tiny;
  tiny.matrix_type = TensorType::F32;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"), tiny);
  std::ofstream(dir.file("text.txt")) << std::string(2000, 'a') << " the cat sat on the mat";
  builder::BuildOptions options;
  options.input = dir.file("tiny.gguf");
  options.output = dir.file("int4.gguf");
  options.calibration_text = dir.file("text.txt");
  options.calibration_context = 32;
  const builder::BuildSummary summary = builder::build_model(options);
  EXPECT_GT(summary.calibration_tokens, 0);
  EXPECT_NE(GgufFile::open(options.output).get_string("phirun.build.calibration").find("text.txt"), std::string::npos);
}

// A statistics cache written without --gptq has no Gram matrices: a --gptq build that reads it is
// refused (it used to fall back to importance weights alone without a word); one written with
// --gptq serves both kinds of build.
TEST(Calibration, GptqRefusesACacheWithoutSecondMoments) {
  testing::TempDir dir;
  testing::TinyModelOptions tiny;
  tiny.matrix_type = TensorType::F32;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"), tiny);
  std::ofstream(dir.file("text.txt")) << std::string(2000, 'a') << " the cat sat on the mat";
  builder::BuildOptions options;
  options.input = dir.file("tiny.gguf");
  options.output = dir.file("int8.gguf");
  options.policy.precision = Precision::INT8;
  options.calibration_text = dir.file("text.txt");
  options.calibration_context = 32;
  options.calibration_cache = dir.file("plain.calib");
  builder::build_model(options);
  options.gptq = true;
  options.output = dir.file("int8-gptq.gguf");
  try {
    builder::build_model(options);
    FAIL() << "a cache without second moments was used for GPTQ";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("plain.calib: holds no second moments"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(fs::exists(options.output));
  options.calibration_cache = dir.file("gptq.calib");
  builder::build_model(options);  // calibrates with second moments and writes the cache
  options.output = dir.file("int8-gptq-cached.gguf");
  builder::build_model(options);  // reads it back
  EXPECT_TRUE(fs::exists(options.output));
}

}  // namespace
}  // namespace phirun
