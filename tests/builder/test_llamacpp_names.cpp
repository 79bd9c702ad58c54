// llama.cpp's key and tensor names for the `qwen2` and `gemma` architectures (tests/data/llamacpp-names,
// recorded from llama.cpp's own converter and gguf-py by tests/fixtures/make_llamacpp_name_tables.py)
// against what phirun's builder writes and its loader reads, on the qwen2-tiny and gemma-tiny fixtures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "models/builder/build.h"
#include "runtime/gguf.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tests/builder/hf_fixture.h"
#include "tests/common/test_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

nlohmann::json llamacpp_table(const std::string& fixture) {
  std::ifstream in(std::string(PHIRUN_SOURCE_DIR) + "/tests/data/llamacpp-names/" + fixture + ".json");
  return nlohmann::json::parse(in);
}

// gguf-py's spelling of a value type (GGUFValueType names).
std::string gguf_py_type(GgufType type) {
  static const std::map<GgufType, std::string> names = {
      {GgufType::U8, "UINT8"},      {GgufType::I8, "INT8"},     {GgufType::U16, "UINT16"},  {GgufType::I16, "INT16"},
      {GgufType::U32, "UINT32"},    {GgufType::I32, "INT32"},   {GgufType::F32, "FLOAT32"}, {GgufType::BOOL, "BOOL"},
      {GgufType::STRING, "STRING"}, {GgufType::ARRAY, "ARRAY"}, {GgufType::U64, "UINT64"},  {GgufType::I64, "INT64"},
      {GgufType::F64, "FLOAT64"}};
  return names.at(type);
}

// The key's value as gguf-py's contents() gives it (scalars).
nlohmann::json scalar(const GgufValue& value) {
  if (value.type == GgufType::STRING) return value.string;
  if (value.type == GgufType::BOOL) return value.u != 0;
  if (value.is_float()) return value.f;
  if (value.is_signed_integer()) return value.i;
  return value.u;
}

// "blk.3.attn_q.bias" -> "blk.{bid}.attn_q" (gguf-py's TENSOR_NAMES form).
std::string tensor_template(const std::string& name) {
  std::string stem = name.substr(0, name.rfind('.'));
  if (stem.starts_with("blk.")) stem = "blk.{bid}" + stem.substr(stem.find('.', 4));
  return stem;
}

class LlamaCppNames : public ::testing::TestWithParam<std::string> {
 protected:
  // phirun's FP32 build of the fixture; empty when the default model (SmolLM2's tokenizer) is missing.
  std::string build(testing::TempDir& dir) {
    const std::string name = GetParam();
    if (!testing::make_fixture_checkpoint(name, dir.file(name), testing::default_model_path_for_tests())) {
      if (testing::model_is_required()) ADD_FAILURE() << "the default model is needed for SmolLM2's tokenizer.json";
      return "";
    }
    builder::BuildOptions options;
    options.input = dir.file(name);
    options.output = dir.file(name + ".gguf");
    options.force = true;
    options.policy.precision = builder::Precision::FP32;
    options.threads = 2;
    builder::build_model(options);
    return options.output;
  }
};

// The same tensors as llama.cpp's converter writes, by name, type and shape, and every name one
// that gguf-py's MODEL_TENSORS allows for the architecture.
TEST_P(LlamaCppNames, TensorsAreLlamaCpps) {
  testing::TempDir dir;
  const std::string path = build(dir);
  if (path.empty()) GTEST_SKIP() << "the default model is missing: run scripts/fetch-model.sh";
  const nlohmann::json table = llamacpp_table(GetParam());
  const GgufFile ours = GgufFile::open(path);
  const auto allowed = table["gguf_py"]["tensors"].get<std::set<std::string>>();
  std::set<std::string> names;
  for (const GgufTensor& tensor : ours.tensors()) {
    names.insert(tensor.name);
    EXPECT_TRUE(allowed.count(tensor_template(tensor.name))) << tensor.name << " is not a gguf-py name for this arch";
    ASSERT_TRUE(table["tensors"].contains(tensor.name)) << tensor.name << " is not written by llama.cpp's converter";
    const nlohmann::json& theirs = table["tensors"][tensor.name];
    EXPECT_EQ(theirs["type"].get<std::string>(), std::string(type_name(tensor.type))) << tensor.name;
    const std::vector<int64_t> shape(tensor.ne.begin(), tensor.ne.begin() + tensor.n_dims);
    EXPECT_EQ(theirs["shape"].get<std::vector<int64_t>>(), shape) << tensor.name;
  }
  for (const auto& [name, entry] : table["tensors"].items())
    EXPECT_TRUE(names.count(name)) << name << " is written by llama.cpp's converter but not by phirun's builder";
}

// Every architecture key and general.architecture/file_type the converter writes, phirun's builder
// writes with the same type and value; phirun's own keys under the architecture's prefix are ones
// gguf-py knows (a key llama.cpp does not write must still be one it reads).
TEST_P(LlamaCppNames, KeysAreLlamaCpps) {
  testing::TempDir dir;
  const std::string path = build(dir);
  if (path.empty()) GTEST_SKIP() << "the default model is missing: run scripts/fetch-model.sh";
  const nlohmann::json table = llamacpp_table(GetParam());
  const std::string arch = table["gguf_py"]["architecture"].get<std::string>();
  const GgufFile ours = GgufFile::open(path);
  int compared = 0;
  for (const auto& [key, entry] : table["keys"].items()) {
    if (!key.starts_with(arch + ".") && key != "general.architecture" && key != "general.file_type") continue;
    const GgufValue* mine = ours.find(key);
    ASSERT_NE(mine, nullptr) << key << " is written by llama.cpp's converter but not by phirun's builder";
    EXPECT_EQ(gguf_py_type(mine->type), entry["type"].get<std::string>()) << key;
    if (mine->is_float()) {
      EXPECT_FLOAT_EQ(float(mine->f), entry["value"].get<float>()) << key;
    } else {
      EXPECT_EQ(scalar(*mine), entry["value"]) << key;
    }
    ++compared;
  }
  EXPECT_GE(compared, 10);
  const auto known = table["gguf_py"]["keys"].get<std::set<std::string>>();
  for (const auto& [key, value] : ours.metadata()) {
    if (key.starts_with(arch + ".")) {
      EXPECT_TRUE(known.count(key)) << key << " is not a gguf-py key name";
    }
  }
}

// A file with only the keys llama.cpp's converter writes (phirun's extra architecture keys and its
// phirun.* keys dropped; the tokenizer kept, as the table leaves it out) loads as the same model:
// the same config and bit-identical logits on a few tokens.
TEST_P(LlamaCppNames, LoaderReadsAFileWithLlamaCppsKeysOnly) {
  testing::TempDir dir;
  const std::string path = build(dir);
  if (path.empty()) GTEST_SKIP() << "the default model is missing: run scripts/fetch-model.sh";
  const nlohmann::json table = llamacpp_table(GetParam());
  const std::string stripped = dir.file("llamacpp-keys.gguf");
  {
    const GgufFile ours = GgufFile::open(path);
    GgufWriter writer(ours.alignment());
    int dropped = 0;
    for (const auto& [key, value] : ours.metadata()) {
      if (key.starts_with("tokenizer.") || table["keys"].contains(key))
        writer.set(key, value);
      else
        ++dropped;
    }
    EXPECT_GE(dropped, 2) << "phirun writes rope.dimension_count and phirun.* keys llama.cpp does not";
    for (const GgufTensor& tensor : ours.tensors())
      writer.add_tensor(tensor.name, tensor.type,
                        std::vector<int64_t>(tensor.ne.begin(), tensor.ne.begin() + tensor.n_dims), tensor.data,
                        tensor.n_bytes);
    writer.write(stripped);
  }
  const std::unique_ptr<Model> full = Model::load(path), bare = Model::load(stripped);
  const ModelConfig &a = full->config(), &b = bare->config();
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.ffn_size, b.ffn_size);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.context_length, b.context_length);
  EXPECT_EQ(a.rms_eps, b.rms_eps);
  EXPECT_EQ(a.rope.theta, b.rope.theta);
  EXPECT_EQ(a.rope.rotary_dims, b.rope.rotary_dims);
  EXPECT_EQ(a.rope.pairing, b.rope.pairing);
  EXPECT_EQ(a.qkv_bias, b.qkv_bias);
  EXPECT_EQ(a.gelu_mlp, b.gelu_mlp);
  EXPECT_EQ(a.embedding_scale, b.embedding_scale);
  const std::vector<int32_t> tokens = {1, 504, 3575, 282, 4649, 314};
  SessionOptions options;
  options.kv_type = TensorType::F32;
  Session one(*full, options), two(*bare, options);
  const std::vector<float> expected = one.append_all_logits(tokens), actual = two.append_all_logits(tokens);
  EXPECT_EQ(expected, actual);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LlamaCppNames, ::testing::Values("qwen2-tiny", "gemma-tiny"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string text = param.param;
                           for (char& c : text)
                             if (c == '-') c = '_';
                           return text;
                         });

}  // namespace
}  // namespace phirun
