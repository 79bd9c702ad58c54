// Tokenizer files -> GGUF tokenizer metadata, against llama.cpp's own conversions: Phi-3's
// SentencePiece vocabulary (fingerprints of llama.cpp's ggml-vocab-phi-3.gguf) and SmolLM2's
// byte-level BPE (the default model's GGUF, converted by llama.cpp from the real checkpoint), and a
// Qwen2-shaped tokenizer.json over Qwen2's real vocabulary.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "models/builder/tokenizer_export.h"
#include "runtime/gguf.h"
#include "runtime/tokenizer_loader.h"
#include "tests/builder/hf_fixture.h"
#include "tests/common/test_model.h"
#include "tests/runtime/temp_dir.h"
#include "tests/tokenizer/vector_files.h"
#include "tokenizer/tokenizer.h"

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

// Phi-3's tokenizer.json carries no scores: they come from the merge order and equal
// SentencePiece's for every piece but U+2581 alone (id 29871), which no merge produces, so its
// score is never used. llama.cpp's fingerprints are taken with that one score as SentencePiece's.
void patch_unused_score(ExportedTokenizer& exported) {
  auto& scores = const_cast<std::vector<double>&>(value_of(exported.metadata, "tokenizer.ggml.scores").float_items);
  EXPECT_NE(scores[29871], -1e9);
  scores[29871] = -1e9;
}

void expect_llama_cpp_phi3_vocabulary(const ExportedTokenizer& exported) {
  const nlohmann::json expected = llama_cpp_phi3_vocab();
  EXPECT_EQ(exported.model, "llama");
  EXPECT_EQ(exported.pre, "default");
  EXPECT_EQ(exported.n_tokens, expected["rows"].get<int64_t>());
  const Fingerprints ours = fingerprints(exported.metadata, expected["count"].get<size_t>());
  EXPECT_EQ(ours.tokens, expected["tokens_fnv1a64"].get<uint64_t>());
  EXPECT_EQ(ours.scores, expected["scores_fnv1a64"].get<uint64_t>());
  EXPECT_EQ(ours.types, expected["types_fnv1a64"].get<uint64_t>());
}

TEST(TokenizerExport, Phi3TokenizerJsonMatchesLlamaCpp) {
  const std::string folder = testing::fixture_folder("phi3-tiny");
  ExportedTokenizer exported = export_tokenizer(folder, fixture_config(folder));
  patch_unused_score(exported);
  expect_llama_cpp_phi3_vocabulary(exported);
  const nlohmann::json expected = llama_cpp_phi3_vocab();
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
  EXPECT_EQ(types[32044], 3);             // special: control
  EXPECT_EQ(types[2], 4);                 // </s> is an added token not marked special: user-defined
  // generation_config.json's EOS list: <|endoftext|>, <|assistant|>, <|end|>.
  const auto& eos = value_of(exported.metadata, "phirun.eos_token_ids").signed_items;
  EXPECT_EQ(eos, (std::vector<int64_t>{32000, 32001, 32007}));
  EXPECT_NE(value_of(exported.metadata, "tokenizer.chat_template").string.find("<|assistant|>"), std::string::npos);
  // Hugging Face's strip flags: no token strips on its left; </s>, <|assistant|> and the
  // placeholders strip on their right, <|endoftext|>, <|system|>, <|end|> and <|user|> do not.
  EXPECT_TRUE(value_of(exported.metadata, "tokenizer.phirun.lstrip_token_ids").signed_items.empty());
  const auto& rstrip = value_of(exported.metadata, "tokenizer.phirun.rstrip_token_ids").signed_items;
  std::vector<int64_t> expected_rstrip = {2, 32001, 32002, 32003, 32004, 32005, 32008, 32009};
  for (int64_t id = 32011; id <= 32044; ++id) expected_rstrip.push_back(id);
  EXPECT_EQ(rstrip, expected_rstrip);
}

// Protobuf wire format, enough to write a SentencePiece ModelProto.
void put_varint(std::string& out, uint64_t value) {
  for (; value >= 0x80; value >>= 7) out.push_back(char(0x80 | (value & 0x7f)));
  out.push_back(char(value));
}
void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {
  put_varint(out, uint64_t(field) << 3 | 2);
  put_varint(out, bytes.size());
  out += bytes;
}

TEST(TokenizerExport, Phi3TokenizerModelMatchesLlamaCpp) {
  // A tokenizer.model is read when present. The real one carries the Llama 2 licence and is not
  // in the repository: this one is written here with the same pieces, scores and types as the
  // committed tokenizer.json gives for ids below 32000 (SentencePiece's own vocabulary), so the
  // export from it must equal llama.cpp's conversion of the real file with no patch.
  testing::TempDir dir;
  const std::string fixture = testing::fixture_folder("phi3-tiny");
  ExportedTokenizer from_json = export_tokenizer(fixture, fixture_config(fixture));
  patch_unused_score(from_json);
  const auto& tokens = value_of(from_json.metadata, "tokenizer.ggml.tokens").string_items;
  const auto& scores = value_of(from_json.metadata, "tokenizer.ggml.scores").float_items;
  const auto& types = value_of(from_json.metadata, "tokenizer.ggml.token_type").signed_items;
  std::string proto;
  for (size_t id = 0; id < 32000; ++id) {
    std::string piece;
    put_bytes(piece, 1, tokens[id]);
    piece.push_back(char(2 << 3 | 5));
    const float score = float(scores[id]);
    piece.append(reinterpret_cast<const char*>(&score), 4);
    put_varint(piece, 3 << 3 | 0);
    put_varint(piece, uint64_t(types[id]));
    put_bytes(proto, 1, piece);
  }
  std::string trainer;
  put_varint(trainer, 3 << 3 | 0);
  put_varint(trainer, 2);  // model_type BPE
  put_bytes(proto, 2, trainer);
  for (const char* file : {"config.json", "tokenizer_config.json", "generation_config.json"})
    fs::copy_file(fixture + "/" + file, dir.file(file));
  std::ofstream(dir.file("tokenizer.model"), std::ios::binary) << proto;
  const ExportedTokenizer exported = export_tokenizer(dir.path().string(), fixture_config(dir.path().string()));
  EXPECT_EQ(exported.source, dir.file("tokenizer.model"));
  expect_llama_cpp_phi3_vocabulary(exported);
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

// Qwen2's Split regex, as its tokenizer.json spells it.
constexpr const char* kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";

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
  EXPECT_EQ(builder::detect_pre_tokenizer(split(kQwen2Pattern)), "qwen2");
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

// A tokenizer.json shaped as Qwen2's (NFC, Split with its pattern then ByteLevel, BPE, the three
// control tokens as special added tokens) over Qwen2's real vocabulary and merges (llama.cpp's
// ggml-vocab-qwen2.gguf, fetched by scripts/fetch-test-data.sh): the builder writes
// tokenizer.ggml.pre "qwen2" and the same tokens, padded to the config's 151936 rows, and the
// runtime's tokenizer from that metadata gives the real Qwen2 tokenizer's ids on llama.cpp's vectors.
TEST(TokenizerExport, Qwen2TokenizerJsonBuildsToQwen2sTokenizer) {
  const std::string vocab_path = (fs::path(testing::default_model_path_for_tests()).parent_path().parent_path() /
                                  "tokenizers" / "ggml-vocab-qwen2.gguf")
                                     .string();
  if (!fs::exists(vocab_path)) {
    if (testing::model_is_required()) FAIL() << vocab_path << " is missing: run scripts/fetch-test-data.sh";
    GTEST_SKIP() << vocab_path << " is missing: run scripts/fetch-test-data.sh";
  }
  const GgufFile real = GgufFile::open(vocab_path);
  const auto& tokens = real.find("tokenizer.ggml.tokens")->string_items;
  const auto& types = real.find("tokenizer.ggml.token_type")->signed_items;
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (types[id] == 1) vocab[tokens[id]] = id;
    if (types[id] == 3)
      added.push_back({{"id", id},
                       {"content", tokens[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", true}});
  }
  const nlohmann::json tokenizer = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", kQwen2Pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", real.find("tokenizer.ggml.merges")->string_items},
        {"byte_fallback", false}}}};
  testing::TempDir dir;
  const std::string folder = dir.file("qwen2");
  fs::create_directories(folder);
  std::ofstream(folder + "/tokenizer.json") << tokenizer.dump();
  nlohmann::json config = nlohmann::json::parse(std::ifstream(testing::fixture_folder("qwen2-tiny") + "/config.json"));
  config["vocab_size"] = 151936;
  config["bos_token_id"] = config["eos_token_id"] = 151643;
  std::ofstream(folder + "/config.json") << config.dump();

  const ExportedTokenizer exported = export_tokenizer(folder, fixture_config(folder));
  EXPECT_EQ(exported.model, "gpt2");
  EXPECT_EQ(exported.pre, "qwen2");
  EXPECT_EQ(exported.n_tokens, 151936);
  const auto& ours = value_of(exported.metadata, "tokenizer.ggml.tokens").string_items;
  ASSERT_EQ(ours.size(), tokens.size());
  for (size_t id = 0; id < 151646; ++id) ASSERT_EQ(ours[id], tokens[id]) << "token " << id;

  GgufWriter writer;
  for (const auto& [key, value] : exported.metadata) writer.set(key, value);
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const Tokenizer built(vocab_from_gguf(GgufFile::parse(bytes.data(), bytes.size(), "qwen2-tokenizer.gguf")));
  EXPECT_EQ(built.pre_tokenizer(), PreTokenizer::Qwen2);
  const auto vectors = testing::read_llama_cpp_vectors("tests/data/ggml-vocab/ggml-vocab-qwen2.gguf.inp",
                                                       "tests/data/ggml-vocab/ggml-vocab-qwen2.gguf.out");
  ASSERT_EQ(vectors.size(), 46u);
  for (size_t i = 0; i < vectors.size(); ++i)
    EXPECT_EQ(built.encode(vectors[i].text), vectors[i].ids) << "vector " << i;
}

// Gemma's SentencePiece settings (tests/fixtures/make_gemma_tokenizer_fixtures.py: a 4000-piece BPE
// model trained with Gemma's NormalizerSpec and TrainerSpec: no dummy prefix, extra whitespace kept,
// byte fallback, digits split, identity normalization): the builder exports add_space_prefix false
// from tokenizer.model, and the runtime's tokenizer gives the `sentencepiece` library's ids and
// decoding on the hard strings and the evaluation texts.
TEST(TokenizerExport, GemmaSentencePieceSettingsMatchSentencePiece) {
  testing::TempDir dir;
  const std::string folder = dir.file("gemma");
  fs::create_directories(folder);
  fs::copy_file("tests/fixtures/tokenizer/gemma_sp/tokenizer.model", folder + "/tokenizer.model");
  nlohmann::json config = nlohmann::json::parse(std::ifstream(testing::fixture_folder("gemma-tiny") + "/config.json"));
  config["vocab_size"] = 4000;
  config["pad_token_id"] = 0;
  config["eos_token_id"] = 1;
  config["bos_token_id"] = 2;
  std::ofstream(folder + "/config.json") << config.dump();
  const ExportedTokenizer exported = export_tokenizer(folder, fixture_config(folder));
  EXPECT_EQ(exported.model, "llama");
  EXPECT_FALSE(value_of(exported.metadata, "tokenizer.ggml.add_space_prefix").u) << "Gemma adds no dummy prefix";
  GgufWriter writer;
  for (const auto& [key, value] : exported.metadata) writer.set(key, value);
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const Tokenizer tokenizer(vocab_from_gguf(GgufFile::parse(bytes.data(), bytes.size(), "gemma-tokenizer.gguf")));
  auto encode = [&](const std::string& text) {
    std::vector<int32_t> ids = tokenizer.encode(text, false);
    if (!ids.empty() && ids.front() == 2) ids.erase(ids.begin());  // BOS: sentencepiece's encode adds none
    return ids;
  };

  std::ifstream in("tests/fixtures/tokenizer/gemma_sp_fixture.json");
  const nlohmann::json fixture = nlohmann::json::parse(in);
  ASSERT_GE(fixture.at("cases").size(), 110u);
  for (const auto& c : fixture.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    const std::vector<int32_t> ids = encode(c.at("text").get<std::string>());
    EXPECT_EQ(ids, c.at("ids").get<std::vector<int32_t>>()) << "case " << name;
    EXPECT_EQ(tokenizer.decode(ids), c.at("decoded").get<std::string>()) << "case " << name;
  }
  const auto block_size = fixture.at("block_size").get<size_t>();
  ASSERT_EQ(fixture.at("files").size(), 3u);
  for (const auto& file : fixture.at("files")) {
    const std::string name = file.at("name").get<std::string>();
    std::ifstream text_file("tests/data/eval-text/" + name, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(text_file)), std::istreambuf_iterator<char>());
    ASSERT_EQ(text.size(), file.at("bytes").get<size_t>()) << name;
    const std::vector<int32_t> ids = encode(text);
    EXPECT_EQ(ids.size(), file.at("token_count").get<size_t>()) << name;
    const auto first = file.at("first_ids").get<std::vector<int32_t>>();
    EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + std::min(ids.size(), first.size())), first) << name;
    const auto hashes = file.at("block_hashes").get<std::vector<std::string>>();
    int bad_blocks = 0;
    for (size_t block = 0; block < hashes.size() && block * block_size < ids.size(); ++block) {
      const size_t begin = block * block_size, count = std::min(block_size, ids.size() - begin);
      uint64_t hash = 0xcbf29ce484222325ull;
      for (size_t k = begin; k < begin + count; ++k) {
        const auto value = static_cast<uint32_t>(ids[k]);
        for (int shift = 0; shift < 32; shift += 8) hash = (hash ^ ((value >> shift) & 0xFF)) * 0x100000001b3ull;
      }
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
      bad_blocks += hashes[block] != hex;
    }
    EXPECT_EQ(bad_blocks, 0) << name;
  }
}

}  // namespace
}  // namespace phirun
