// Model::load on tiny `llama` GGUFs: a good file gives the right config, weights and tokenizer;
// each bad hyper-parameter, tensor or vocabulary gives an error naming the file and the key or
// tensor at fault.
#include <gtest/gtest.h>

#include <cstring>

#include <limits>
#include <stdexcept>

#include "kernels/cpu/gemm/packed_layout.h"
#include "runtime/model.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

using namespace phirun::testing;

constexpr int64_t kTinyVocab = 3 + 256 + 5;  // control tokens, bytes, merges

std::unique_ptr<Model> load_tiny(const TempDir& dir, const TinyModelOptions& options) {
  const std::string path = dir.file("tiny.gguf");
  write_tiny_llama_gguf(path, options);
  return Model::load(path, LoadOptions{1});
}

TEST(TinyModel, IsSmallAndDeterministic) {
  const std::vector<uint8_t> bytes = make_tiny_llama_gguf();
  EXPECT_LT(bytes.size(), 64u * 1024);
  EXPECT_EQ(bytes, make_tiny_llama_gguf()) << "same seed, same bytes";
  TinyModelOptions other_seed;
  other_seed.seed = 99;
  EXPECT_NE(bytes, make_tiny_llama_gguf(other_seed));
  EXPECT_EQ(tiny_model_tokens().size(), size_t(kTinyVocab));
  EXPECT_EQ(gpt2_byte_text(' '), "\xC4\xA0");   // "Ġ" (U+0120)
  EXPECT_EQ(gpt2_byte_text('\n'), "\xC4\x8A");  // "Ċ" (U+010A)
  EXPECT_EQ(gpt2_byte_text('a'), "a");
  EXPECT_EQ(gpt2_byte_text(0xAD), "\xC5\x83");  // soft hyphen, the last unprintable byte: U+0143
}

TEST(ModelLoader, TinyModelConfigIsRight) {
  TempDir dir;
  const std::unique_ptr<Model> model = load_tiny(dir, {});
  const ModelConfig& config = model->config();
  EXPECT_EQ(config.architecture, "llama");
  EXPECT_EQ(config.n_layers, 2);
  EXPECT_EQ(config.hidden_size, 64);
  EXPECT_EQ(config.n_heads, 4);
  EXPECT_EQ(config.n_kv_heads, 2);
  EXPECT_EQ(config.head_dim, 16);
  EXPECT_EQ(config.ffn_size, 96);
  EXPECT_EQ(config.vocab_size, kTinyVocab);
  EXPECT_EQ(config.context_length, 128);
  EXPECT_EQ(config.rms_eps, 1e-5f);
  EXPECT_EQ(config.rope.theta, 10000.0f);
  EXPECT_EQ(config.rope.rotary_dims, 16);
  EXPECT_EQ(config.rope.pairing, RopePairing::Adjacent);
  EXPECT_EQ(model->chat_template(), kTinyChatTemplate);
}

TEST(ModelLoader, TinyModelTokenizerIsTheFilesVocabulary) {
  TempDir dir;
  const std::unique_ptr<Model> model = load_tiny(dir, {});
  const Tokenizer& tokenizer = model->tokenizer();
  EXPECT_EQ(tokenizer.vocab_size(), kTinyVocab);
  EXPECT_TRUE(tokenizer.is_control(kTinyImStartId));
  EXPECT_TRUE(tokenizer.is_end_of_generation(kTinyImEndId));
  const int32_t the = *tokenizer.find_token("\xC4\xA0the");  // "Ġthe", made by two merges
  EXPECT_EQ(tokenizer.encode("<|im_start|> the"), (std::vector<int32_t>{kTinyImStartId, the}));
  EXPECT_EQ(tokenizer.encode("a"), (std::vector<int32_t>{kTinyFirstByteId + 'a'}));
}

struct WeightLayout {
  TensorType matrix_type;
  bool tied_output;
  uint64_t alignment;
};

void PrintTo(const WeightLayout& layout, std::ostream* out) {
  *out << type_name(layout.matrix_type) << (layout.tied_output ? " tied" : " untied") << " align " << layout.alignment;
}

class ModelLoaderLayouts : public ::testing::TestWithParam<WeightLayout> {};

TEST_P(ModelLoaderLayouts, WeightViewsMatchTheFile) {
  const WeightLayout layout = GetParam();
  TinyModelOptions options;
  options.matrix_type = layout.matrix_type;
  options.tied_output = layout.tied_output;
  options.alignment = layout.alignment;
  TempDir dir;
  const std::unique_ptr<Model> model = load_tiny(dir, options);
  const ModelWeights& weights = model->weights();
  const GgufFile& file = model->file();
  EXPECT_EQ(file.alignment(), layout.alignment);

  auto expect_view = [&](const MatrixView& view, const std::string& name, int64_t rows, int64_t cols) {
    SCOPED_TRACE(name);
    const GgufTensor* tensor = file.find_tensor(name);
    ASSERT_NE(tensor, nullptr);
    EXPECT_EQ(view.type, layout.matrix_type);
    EXPECT_EQ(view.rows, rows);
    EXPECT_EQ(view.cols, cols);
    if (view.layout == MatrixLayout::RowMajor) {
      EXPECT_EQ(view.data, tensor->data);
    } else {  // repacked at load for the CPU kernels: the file's bytes in the panel layout
      const MatrixView original{view.type, rows, cols, tensor->data};
      std::vector<uint8_t> expected(size_t(packed_matrix_bytes(view.type, rows, cols)));
      pack_panels(original, expected.data());
      EXPECT_EQ(std::memcmp(view.data, expected.data(), expected.size()), 0);
    }
  };
  expect_view(weights.token_embedding, "token_embd.weight", kTinyVocab, 64);
  expect_view(weights.output, layout.tied_output ? "token_embd.weight" : "output.weight", kTinyVocab, 64);
  ASSERT_EQ(weights.layers.size(), 2u);
  for (int layer = 0; layer < 2; ++layer) {
    const std::string block = "blk." + std::to_string(layer) + ".";
    const LayerWeights& weights_of_layer = weights.layers[size_t(layer)];
    expect_view(weights_of_layer.wq, block + "attn_q.weight", 64, 64);
    expect_view(weights_of_layer.wk, block + "attn_k.weight", 32, 64);
    expect_view(weights_of_layer.wv, block + "attn_v.weight", 32, 64);
    expect_view(weights_of_layer.wo, block + "attn_output.weight", 64, 64);
    expect_view(weights_of_layer.w_gate, block + "ffn_gate.weight", 96, 64);
    expect_view(weights_of_layer.w_up, block + "ffn_up.weight", 96, 64);
    expect_view(weights_of_layer.w_down, block + "ffn_down.weight", 64, 96);
    // Norms are copied out as floats: compare with the file's F32 data.
    const auto* attn_norm = reinterpret_cast<const float*>(file.find_tensor(block + "attn_norm.weight")->data);
    EXPECT_EQ(weights_of_layer.attn_norm, std::vector<float>(attn_norm, attn_norm + 64));
    ASSERT_EQ(weights_of_layer.ffn_norm.size(), 64u);
  }
  ASSERT_EQ(weights.output_norm.size(), 64u);
  for (float value : weights.output_norm) EXPECT_NEAR(value, 1.0f, 0.1f);
}

INSTANTIATE_TEST_SUITE_P(
    Types, ModelLoaderLayouts,
    ::testing::Values(WeightLayout{TensorType::F32, true, 32}, WeightLayout{TensorType::Q8_0, true, 32},
                      WeightLayout{TensorType::Q4_1, true, 32}, WeightLayout{TensorType::Q4_1, false, 32},
                      WeightLayout{TensorType::Q8_0, false, 64}, WeightLayout{TensorType::F16, true, 64}),
    [](const ::testing::TestParamInfo<WeightLayout>& param) {
      return std::string(type_name(param.param.matrix_type)) + (param.param.tied_output ? "_tied" : "_untied") +
             "_align" + std::to_string(param.param.alignment);
    });

TEST(ModelLoader, MissingChatTemplateIsEmpty) {
  TinyModelOptions options;
  options.with_chat_template = false;
  TempDir dir;
  EXPECT_EQ(load_tiny(dir, options)->chat_template(), "");
}

TEST(ModelLoader, ConfigFromGgufWorksWithoutTensors) {
  TinyModelOptions options;
  options.override_keys = {{"llama.attention.key_length", GgufValue::of_u32(32)},
                           {"llama.rope.dimension_count", GgufValue::of_u32(24)}};
  const std::vector<uint8_t> bytes = make_tiny_llama_gguf(options);
  const ModelConfig config = config_from_gguf(GgufFile::parse(bytes.data(), bytes.size(), "tiny.gguf"));
  EXPECT_EQ(config.head_dim, 32) << "attention.key_length overrides hidden / heads";
  EXPECT_EQ(config.rope.rotary_dims, 24) << "partial rotary";
}

TEST(ModelLoader, SlidingWindowIsReadAndAWindowPastTheContextIgnored) {
  auto window_of = [](uint32_t window) {
    TinyModelOptions options;
    options.override_keys = {{"llama.attention.sliding_window", GgufValue::of_u32(window)}};
    const std::vector<uint8_t> bytes = make_tiny_llama_gguf(options);
    return config_from_gguf(GgufFile::parse(bytes.data(), bytes.size(), "tiny.gguf")).sliding_window;
  };
  EXPECT_EQ(window_of(16), 16);
  EXPECT_EQ(window_of(0), 0) << "0: no window (llama.cpp's phi3 converter writes 0 for none)";
  EXPECT_EQ(window_of(128), 0) << "a window as long as the context (128) masks nothing";
  EXPECT_EQ(window_of(262144), 0) << "Phi-4-mini's 262144 against its 131072 context";
}

// ---- The table of bad models --------------------------------------------------------------

struct BadModel {
  std::string name;
  TinyModelOptions options;
  std::string expected;  // must appear in the message, after "PATH: "
};

TinyModelOptions override_key(const std::string& key, GgufValue value) {
  TinyModelOptions options;
  options.override_keys = {{key, std::move(value)}};
  return options;
}
TinyModelOptions drop_key(const std::string& key) {
  TinyModelOptions options;
  options.drop_keys = {key};
  return options;
}
TinyModelOptions drop_tensor(const std::string& name) {
  TinyModelOptions options;
  options.drop_tensors = {name};
  return options;
}
TinyModelOptions override_tensor(const std::string& name, TinyTensorOverride change) {
  TinyModelOptions options;
  options.override_tensors[name] = std::move(change);
  return options;
}
TinyModelOptions untied_with(const std::string& name, TinyTensorOverride change) {
  TinyModelOptions options = override_tensor(name, std::move(change));
  options.tied_output = false;
  return options;
}

std::vector<BadModel> bad_models() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  return {
      {"unknown_architecture", override_key("general.architecture", GgufValue::of_string("gptj")),
       "unsupported architecture 'gptj' (phirun runs: llama, phi3, qwen2, gemma)"},
      {"missing_architecture", drop_key("general.architecture"),
       "required metadata key general.architecture is missing"},
      {"missing_block_count", drop_key("llama.block_count"), "required metadata key llama.block_count is missing"},
      {"missing_embedding_length", drop_key("llama.embedding_length"),
       "required metadata key llama.embedding_length is missing"},
      {"missing_head_count_kv", drop_key("llama.attention.head_count_kv"),
       "required metadata key llama.attention.head_count_kv is missing"},
      {"missing_context_length", drop_key("llama.context_length"),
       "required metadata key llama.context_length is missing"},
      {"block_count_as_string", override_key("llama.block_count", GgufValue::of_string("2")),
       "metadata key llama.block_count is a string, expected an integer"},
      {"head_count_negative", override_key("llama.attention.head_count", GgufValue::of_i32(-4)),
       "metadata key llama.attention.head_count is negative (-4)"},
      {"head_count_not_dividing", override_key("llama.attention.head_count", GgufValue::of_u32(5)),
       "llama.attention.head_count 5 does not divide embedding_length 64"},
      {"head_count_kv_not_dividing", override_key("llama.attention.head_count_kv", GgufValue::of_u32(3)),
       "llama.attention.head_count_kv 3 does not divide head_count 4"},
      {"block_count_zero", override_key("llama.block_count", GgufValue::of_u32(0)),
       "llama.block_count = 0 is out of range (1 to 1024)"},
      {"block_count_huge", override_key("llama.block_count", GgufValue::of_u64(uint64_t(1) << 40)),
       "llama.block_count = 1099511627776 is out of range (1 to 1024)"},
      {"context_length_zero", override_key("llama.context_length", GgufValue::of_u32(0)),
       "llama.context_length = 0 is out of range"},
      {"rms_eps_nan", override_key("llama.attention.layer_norm_rms_epsilon", GgufValue::of_f32(nan)),
       "llama.attention.layer_norm_rms_epsilon = nan is not in (0, 1)"},
      {"rms_eps_negative", override_key("llama.attention.layer_norm_rms_epsilon", GgufValue::of_f32(-1e-5f)),
       "llama.attention.layer_norm_rms_epsilon = -0.000010 is not in (0, 1)"},
      {"rope_freq_base_zero", override_key("llama.rope.freq_base", GgufValue::of_f32(0.0f)),
       "llama.rope.freq_base = 0.000000 is not a finite number above 1"},
      {"rope_dims_odd", override_key("llama.rope.dimension_count", GgufValue::of_u32(15)),
       "llama.rope.dimension_count = 15 must be even and at most the head size 16"},
      {"rope_dims_above_head_dim", override_key("llama.rope.dimension_count", GgufValue::of_u32(32)),
       "llama.rope.dimension_count = 32 must be even and at most the head size 16"},
      {"missing_embedding", drop_tensor("token_embd.weight"), "required tensor token_embd.weight is missing"},
      {"missing_output_norm", drop_tensor("output_norm.weight"), "required tensor output_norm.weight is missing"},
      {"missing_ffn_down", drop_tensor("blk.1.ffn_down.weight"), "required tensor blk.1.ffn_down.weight is missing"},
      {"missing_attn_norm", drop_tensor("blk.0.attn_norm.weight"), "required tensor blk.0.attn_norm.weight is missing"},
      {"attn_k_wrong_shape", override_tensor("blk.0.attn_k.weight", {{64, 64}, {}, {}}),
       "tensor blk.0.attn_k.weight has shape [64, 64], expected [64, 32]"},
      {"ffn_down_transposed", override_tensor("blk.1.ffn_down.weight", {{64, 96}, {}, {}}),
       "tensor blk.1.ffn_down.weight has shape [64, 96], expected [96, 64]"},
      {"attn_q_rank3", override_tensor("blk.0.attn_q.weight", {{64, 32, 2}, {}, {}}),
       "tensor blk.0.attn_q.weight has shape [64, 32, ...], expected [64, 64]"},
      {"embedding_rank1", override_tensor("token_embd.weight", {{64}, {}, {}}), "tensor token_embd.weight must be 2-D"},
      {"norm_wrong_size", override_tensor("blk.0.ffn_norm.weight", {{32}, {}, {}}),
       "tensor blk.0.ffn_norm.weight has 32 elements, expected 64"},
      {"output_wrong_rows", untied_with("output.weight", {{64, 100}, {}, {}}),
       "tensor output.weight has shape [64, 100], expected [64, 264]"},
      {"vocab_larger_than_embedding", override_tensor("token_embd.weight", {{64, 200}, {}, {}}),
       "the tokenizer has 264 tokens but the embedding only 200 rows"},
      {"eos_id_outside_vocab", override_key("tokenizer.ggml.eos_token_id", GgufValue::of_u32(264)),
       "tokenizer.ggml.eos_token_id: token id 264 is out of range for 264 tokens"},
      {"missing_tokens", drop_key("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens: missing"},
      {"norm_holds_nan", override_tensor("blk.1.ffn_norm.weight", {{}, {}, nan}),
       "tensor blk.1.ffn_norm.weight holds a value that is not finite"},
      {"output_norm_holds_inf", override_tensor("output_norm.weight", {{}, {}, std::numeric_limits<float>::infinity()}),
       "tensor output_norm.weight holds a value that is not finite"},
      {"chat_template_too_large",
       override_key("tokenizer.chat_template", GgufValue::of_string(std::string((1 << 20) + 1, 'x'))),
       "tokenizer.chat_template is 1048577 bytes, above the limit of 1048576"},
      {"special_id_past_the_tokens", override_key("tokenizer.ggml.bos_token_id", GgufValue::of_u64(uint64_t(1) << 40)),
       "tokenizer.ggml.bos_token_id: token id 1099511627776 is out of range for 264 tokens"},
      {"key_length_huge", override_key("llama.attention.key_length", GgufValue::of_u32(1u << 20)),
       "llama.attention.key_length = 1048576 is out of range (1 to 131072)"},
      {"context_length_huge", override_key("llama.context_length", GgufValue::of_u64(uint64_t(1) << 40)),
       "llama.context_length = 1099511627776 is out of range (1 to 16777216)"},
      // Problems only the Tokenizer constructor sees must still name the file.
      {"unknown_pre_tokenizer", override_key("tokenizer.ggml.pre", GgufValue::of_string("llama-bpe")),
       "unsupported tokenizer.ggml.pre \"llama-bpe\""},
      {"merge_of_non_tokens", override_key("tokenizer.ggml.merges", GgufValue::of_strings({"x y"})),
       "merge 0 \"x y\": its result \"xy\" is not a token"},
  };
}

// LongRoPE factor tensors (issue 6): the tiny model with both factor vectors (8 each: head_dim 16
// / 2), each broken one way.
TinyModelOptions long_rope_with(const std::string& name, TinyTensorOverride change) {
  TinyModelOptions options = override_tensor(name, std::move(change));
  options.long_rope = true;
  return options;
}
TinyModelOptions long_rope_without(const std::string& name) {
  TinyModelOptions options = drop_tensor(name);
  options.long_rope = true;
  return options;
}

std::vector<BadModel> bad_long_rope_models() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  return {
      {"rope_factors_long_too_short", long_rope_with("rope_factors_long.weight", {{6}, {}, {}}),
       "tensor rope_factors_long.weight has 6 factors in 1 dimensions, expected one row of rope.dimension_count / 2 = "
       "8"},
      {"rope_factors_short_too_long", long_rope_with("rope_factors_short.weight", {{16}, {}, {}}),
       "tensor rope_factors_short.weight has 16 factors in 1 dimensions, expected one row of "
       "rope.dimension_count / 2 = 8"},
      {"rope_factors_long_2d", long_rope_with("rope_factors_long.weight", {{4, 2}, {}, {}}),
       "tensor rope_factors_long.weight has 8 factors in 2 dimensions"},
      {"rope_factors_long_f16", long_rope_with("rope_factors_long.weight", {{}, TensorType::F16, {}}),
       "tensor rope_factors_long.weight is F16, expected F32"},
      {"rope_factors_short_bf16", long_rope_with("rope_factors_short.weight", {{}, TensorType::BF16, {}}),
       "tensor rope_factors_short.weight is BF16, expected F32"},
      {"rope_factors_long_nan", long_rope_with("rope_factors_long.weight", {{}, {}, nan}),
       "tensor rope_factors_long.weight factor 0 = nan is not a finite positive number"},
      {"rope_factors_short_inf", long_rope_with("rope_factors_short.weight", {{}, {}, inf}),
       "tensor rope_factors_short.weight factor 0 = inf is not a finite positive number"},
      {"rope_factors_long_zero", long_rope_with("rope_factors_long.weight", {{}, {}, 0.0f}),
       "tensor rope_factors_long.weight factor 0 = 0.000000 is not a finite positive number"},
      {"rope_factors_short_negative", long_rope_with("rope_factors_short.weight", {{}, {}, -1.0f}),
       "tensor rope_factors_short.weight factor 0 = -1.000000 is not a finite positive number"},
      {"rope_factors_short_missing", long_rope_without("rope_factors_short.weight"),
       "LongRoPE needs both rope_factors_short.weight and rope_factors_long.weight; rope_factors_short.weight is "
       "missing"},
      {"rope_factors_long_missing", long_rope_without("rope_factors_long.weight"),
       "rope_factors_long.weight is missing"},
  };
}

void PrintTo(const BadModel& bad, std::ostream* out) { *out << bad.name; }

class ModelLoaderBadModel : public ::testing::TestWithParam<BadModel> {};

TEST_P(ModelLoaderBadModel, IsRefusedNamingTheFileAndTheProblem) {
  const BadModel& bad = GetParam();
  TempDir dir;
  const std::string path = dir.file(bad.name + ".gguf");
  write_tiny_llama_gguf(path, bad.options);
  try {
    Model::load(path, LoadOptions{1});
    ADD_FAILURE() << bad.name << " loaded; expected: " << bad.expected;
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << "the message must start with the path: " << message;
    EXPECT_NE(message.find(bad.expected), std::string::npos) << "expected \"" << bad.expected << "\" in: " << message;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ModelLoaderBadModel, ::testing::ValuesIn(bad_models()),
                         [](const ::testing::TestParamInfo<BadModel>& param) { return param.param.name; });
INSTANTIATE_TEST_SUITE_P(LongRope, ModelLoaderBadModel, ::testing::ValuesIn(bad_long_rope_models()),
                         [](const ::testing::TestParamInfo<BadModel>& param) { return param.param.name; });

// The good tiny LongRoPE file loads with its factors (the table above differs from it by one edit).
TEST(ModelLoader, TinyLongRopeModelLoads) {
  TempDir dir;
  TinyModelOptions options;
  options.long_rope = true;
  write_tiny_llama_gguf(dir.file("long.gguf"), options);
  const std::unique_ptr<Model> model = Model::load(dir.file("long.gguf"), LoadOptions{1});
  EXPECT_EQ(model->config().rope_factors_short.size(), 8u);
  EXPECT_EQ(model->config().rope_factors_long.size(), 8u);
  EXPECT_EQ(model->config().rope_original_context, 32);
}

}  // namespace
}  // namespace phirun
