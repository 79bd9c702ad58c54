// Tokenizer files -> GGUF tokenizer metadata, against llama.cpp's own conversions: Phi-3's
// SentencePiece vocabulary (fingerprints of llama.cpp's ggml-vocab-phi-3.gguf) and SmolLM2's
// byte-level BPE (the default model's GGUF, converted by llama.cpp from the real checkpoint).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "models/builder/tokenizer_export.h"
#include "runtime/gguf.h"
#include "tests/builder/hf_fixture.h"
#include "tests/common/test_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

namespace fs = std::filesystem;
using builder::export_tokenizer;
using builder::ExportedTokenizer;

const GgufValue& value_of(const builder::Metadata& metadata, const std::string& key) {
  for (const auto& [name, value] : metadata)
    if (name == key) return value;
  throw std::runtime_error("no metadata key " + key);
}

bool has_key(const builder::Metadata& metadata, const std::string& key) {
  for (const auto& [name, value] : metadata)
    if (name == key) return true;
  return false;
}

struct Fingerprints {
  uint64_t tokens = 0xcbf29ce484222325ull, scores = 0xcbf29ce484222325ull, types = 0xcbf29ce484222325ull;
};

Fingerprints fingerprints(const builder::Metadata& metadata, size_t count) {
  Fingerprints result;
  const auto& tokens = value_of(metadata, "tokenizer.ggml.tokens").string_items;
  const auto& scores = value_of(metadata, "tokenizer.ggml.scores").float_items;
  const auto& types = value_of(metadata, "tokenizer.ggml.token_type").signed_items;
  for (size_t id = 0; id < count; ++id) {
    result.tokens = testing::fnv1a64(tokens[id].data(), tokens[id].size() + 1, result.tokens);  // with the NUL
    const float score = float(scores[id]);
    result.scores = testing::fnv1a64(&score, 4, result.scores);
    const int32_t type = int32_t(types[id]);
    result.types = testing::fnv1a64(&type, 4, result.types);
  }
  return result;
}

nlohmann::json llama_cpp_phi3_vocab() {
  std::ifstream in(testing::fixture_folder("phi3-tiny") + "/llama_cpp_vocab.json");
  return nlohmann::json::parse(in);
}

builder::HfConfig fixture_config(const std::string& folder) { return builder::read_hf_config(folder + "/config.json"); }

TEST(TokenizerExport, Phi3SentencePieceMatchesLlamaCpp) {
  const std::string folder = testing::fixture_folder("phi3-tiny");
  const ExportedTokenizer exported = export_tokenizer(folder, fixture_config(folder));
  const nlohmann::json expected = llama_cpp_phi3_vocab();
  EXPECT_EQ(exported.model, "llama");
  EXPECT_EQ(exported.pre, "default");
  EXPECT_EQ(exported.n_tokens, expected["rows"].get<int64_t>());
  const Fingerprints ours = fingerprints(exported.metadata, expected["count"].get<size_t>());
  EXPECT_EQ(ours.tokens, expected["tokens_fnv1a64"].get<uint64_t>());
  EXPECT_EQ(ours.scores, expected["scores_fnv1a64"].get<uint64_t>());
  EXPECT_EQ(ours.types, expected["types_fnv1a64"].get<uint64_t>());
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                          "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"})
    EXPECT_EQ(int64_t(value_of(exported.metadata, key).u), expected[key].get<int64_t>()) << key;
  EXPECT_EQ(bool(value_of(exported.metadata, "tokenizer.ggml.add_bos_token").u), true);
  EXPECT_EQ(bool(value_of(exported.metadata, "tokenizer.ggml.add_eos_token").u), false);
  // Rows past the tokenizer are padding, typed unused (5) as current llama.cpp writes them (the
  // reference file, from an older llama.cpp, typed them 2).
  const auto& tokens = value_of(exported.metadata, "tokenizer.ggml.tokens").string_items;
  const auto& types = value_of(exported.metadata, "tokenizer.ggml.token_type").signed_items;
  EXPECT_EQ(tokens[32063], "[PAD32063]");
  EXPECT_EQ(types[32063], 5);
  EXPECT_EQ(tokens[32044], "<|image|>");  // Phi-3-vision's last added token
  EXPECT_EQ(types[32044], 3);
  // generation_config.json's EOS list: <|endoftext|>, <|assistant|>, <|end|>.
  const auto& eos = value_of(exported.metadata, "phirun.eos_token_ids").signed_items;
  EXPECT_EQ(eos, (std::vector<int64_t>{32000, 32001, 32007}));
  EXPECT_NE(value_of(exported.metadata, "tokenizer.chat_template").string.find("<|assistant|>"), std::string::npos);
}

TEST(TokenizerExport, Phi3FromTokenizerJsonAloneDerivesTheScores) {
  // Without tokenizer.model the scores come from the merge order: they equal SentencePiece's for
  // every piece but U+2581 alone (id 29871), which no merge produces, so its score is never used.
  testing::TempDir dir;
  for (const char* file : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(testing::fixture_folder("phi3-tiny") + "/" + file, dir.file(file));
  ExportedTokenizer exported = export_tokenizer(dir.path().string(), fixture_config(dir.path().string()));
  const nlohmann::json expected = llama_cpp_phi3_vocab();
  auto& scores = const_cast<std::vector<double>&>(value_of(exported.metadata, "tokenizer.ggml.scores").float_items);
  EXPECT_NE(scores[29871], -1e9);
  scores[29871] = -1e9;
  const Fingerprints ours = fingerprints(exported.metadata, expected["count"].get<size_t>());
  EXPECT_EQ(ours.tokens, expected["tokens_fnv1a64"].get<uint64_t>());
  EXPECT_EQ(ours.scores, expected["scores_fnv1a64"].get<uint64_t>());
  EXPECT_EQ(ours.types, expected["types_fnv1a64"].get<uint64_t>());
}

TEST(TokenizerExport, SmolLM2MatchesTheDefaultModelsGguf) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  testing::TempDir dir;
  for (const char* file : {"config.json", "tokenizer_config.json", "generation_config.json"})
    fs::copy_file(testing::fixture_folder("smollm2-tiny") + "/" + file, dir.file(file));
  testing::write_smollm2_tokenizer_json(model_path, dir.file("tokenizer.json"));
  const ExportedTokenizer exported = export_tokenizer(dir.path().string(), fixture_config(dir.path().string()));
  EXPECT_EQ(exported.pre, "smollm");
  const GgufFile original = GgufFile::open(model_path);
  int compared = 0;
  for (const auto& [key, value] : original.metadata()) {
    if (!key.starts_with("tokenizer.")) continue;
    ASSERT_TRUE(has_key(exported.metadata, key)) << key;
    const GgufValue& ours = value_of(exported.metadata, key);
    EXPECT_EQ(ours.string, value.string) << key;
    EXPECT_EQ(ours.string_items, value.string_items) << key;
    EXPECT_EQ(ours.u, value.u) << key;
    std::vector<int64_t> theirs(value.signed_items);
    for (uint64_t item : value.unsigned_items) theirs.push_back(int64_t(item));
    std::vector<int64_t> mine(ours.signed_items);
    for (uint64_t item : ours.unsigned_items) mine.push_back(int64_t(item));
    EXPECT_EQ(mine, theirs) << key;
    ++compared;
  }
  EXPECT_EQ(compared, 12);  // model, pre, tokens, types, merges, 4 ids, add_bos, add_space_prefix, template
}

TEST(TokenizerExport, RecognisesPreTokenizersByShape) {
  const std::string byte_level = R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})";
  EXPECT_EQ(builder::detect_pre_tokenizer(byte_level), "gpt2");
  EXPECT_EQ(builder::detect_pre_tokenizer(R"({"type": "Sequence", "pretokenizers": [
      {"type": "Digits", "individual_digits": true}, )" +
                                          byte_level + "]}"),
            "smollm");
  auto split = [](const std::string& pattern) {
    return R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": )" +
           nlohmann::json(pattern).dump() +
           R"(}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]})";
  };
  EXPECT_EQ(builder::detect_pre_tokenizer(split(
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")),
            "llama-bpe");
  EXPECT_EQ(builder::detect_pre_tokenizer(split("\\p{L}+|\\p{N}+")), "");
  EXPECT_EQ(builder::detect_pre_tokenizer(R"({"type": "Whitespace"})"), "");
}

void expect_error(const std::string& folder, const std::string& expected) {
  try {
    export_tokenizer(folder, fixture_config(folder));
    ADD_FAILURE() << "no error; expected: " << expected;
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

TEST(TokenizerExport, RefusesWhatItCannotConvert) {
  testing::TempDir dir;
  fs::copy_file(testing::fixture_folder("smollm2-tiny") + "/config.json", dir.file("config.json"));
  expect_error(dir.path().string(), "no tokenizer.json or tokenizer.model");

  std::ofstream(dir.file("tokenizer.json")) << "{\"model\": ";
  expect_error(dir.path().string(), "tokenizer.json: not valid JSON");

  std::ofstream(dir.file("tokenizer.json"))
      << R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 70000}, "merges": []},
            "pre_tokenizer": {"type": "ByteLevel"}})";
  expect_error(dir.path().string(), "token 'b' has id 70000, past the 49152 rows of the embedding");

  std::ofstream(dir.file("tokenizer.json"))
      << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}})";
  expect_error(dir.path().string(), "is not one phirun recognises");

  std::ofstream(dir.file("tokenizer.json")) << R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})";
  expect_error(dir.path().string(), "tokenizer model type 'WordPiece' is not supported");

  std::ofstream(dir.file("tokenizer.model"), std::ios::binary) << "\x0a\x05\x0a";
  fs::remove(dir.file("tokenizer.json"));
  expect_error(dir.path().string(), "tokenizer.model: not a valid SentencePiece model");
}

}  // namespace
}  // namespace phirun
