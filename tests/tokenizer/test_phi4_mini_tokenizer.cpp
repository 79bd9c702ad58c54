// Phi-4-mini's o200k byte-level BPE against Hugging Face `tokenizers`: the vocabulary rebuilt from
// o200k's ranks is Phi-4-mini's (hashes of vocab.json and merges.txt), it goes through a GGUF and
// back as phirun's builder writes it, and the pre-tokenizer words, ids (special tokens parsed and
// not) and decoding match on the hard strings and the evaluation texts.
// Fixtures: tests/fixtures/make_phi4_mini_tokenizer_fixtures.py. Needs scripts/fetch-test-data.sh.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "runtime/gguf.h"
#include "runtime/tokenizer_loader.h"
#include "tests/tokenizer/oracle_fixtures.h"
#include "tests/tokenizer/phi4_mini_vocab.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

using Ids = std::vector<int32_t>;
using testing::first_difference;

std::string hex64(uint64_t value) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(value));
  return hex;
}

// The vocabulary written to a GGUF with the keys phirun's builder writes, read back and padded to
// the embedding's rows, as Model::load does.
const Tokenizer& phi4_mini_tokenizer(const std::string& o200k_path) {
  static const std::unique_ptr<Tokenizer> tokenizer = [&] {
    const TokenizerVocab built = testing::phi4_mini_vocab(o200k_path);
    GgufWriter writer;
    writer.set("general.name", GgufValue::of_string("Phi 4 Mini Instruct"));
    writer.set("tokenizer.ggml.model", GgufValue::of_string(built.model));
    writer.set("tokenizer.ggml.pre", GgufValue::of_string(built.pre));
    writer.set("tokenizer.ggml.tokens", GgufValue::of_strings(built.tokens));
    std::vector<int32_t> types;
    for (TokenType type : built.token_types) types.push_back(static_cast<int32_t>(type));
    writer.set("tokenizer.ggml.token_type", GgufValue::of_i32s(types));
    writer.set("tokenizer.ggml.merges", GgufValue::of_strings(built.merges));
    writer.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(static_cast<uint32_t>(built.bos_id)));
    writer.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(static_cast<uint32_t>(built.eos_id)));
    writer.set("tokenizer.ggml.unknown_token_id", GgufValue::of_u32(static_cast<uint32_t>(built.unk_id)));
    writer.set("tokenizer.ggml.padding_token_id", GgufValue::of_u32(static_cast<uint32_t>(built.pad_id)));
    writer.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(built.add_bos));
    writer.set(std::string(kLstripTokenIdsKey), GgufValue::of_i32s(built.lstrip_ids));
    writer.set(std::string(kRstripTokenIdsKey), GgufValue::of_i32s(built.rstrip_ids));
    const std::vector<uint8_t> bytes = writer.to_bytes();
    const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "phi-4-mini-vocab.gguf");
    TokenizerVocab vocab = vocab_from_gguf(file);
    const auto rows = testing::read_json_fixture("phi4_mini_vocab.json").at("embedding_rows").get<int64_t>();
    pad_vocab_to_rows(vocab, rows, file);
    return std::make_unique<Tokenizer>(std::move(vocab));
  }();
  return *tokenizer;
}

std::string stream_decode(const Tokenizer& tokenizer, std::span<const int32_t> ids, bool include_special) {
  StreamingDecoder decoder(tokenizer, include_special);
  std::string text;
  for (int32_t id : ids) text += decoder.push(id);
  return text + decoder.flush();
}

TEST(Phi4MiniTokenizer, VocabularyIsPhi4Minis) {
  PHIRUN_REQUIRE_O200K_VOCAB(o200k_path);
  const nlohmann::json fixture = testing::read_json_fixture("phi4_mini_vocab.json");
  const TokenizerVocab built = testing::phi4_mini_vocab(o200k_path);
  ASSERT_EQ(built.tokens.size(), fixture.at("token_count").get<size_t>());
  EXPECT_EQ(hex64(testing::fnv1a64_of_strings(built.tokens)), fixture.at("token_texts_fnv1a64").get<std::string>())
      << "the token texts differ from vocab.json + added_tokens.json";
  ASSERT_EQ(built.merges.size(), fixture.at("merge_count").get<size_t>());
  EXPECT_EQ(hex64(testing::fnv1a64_of_strings(built.merges)), fixture.at("merges_fnv1a64").get<std::string>())
      << "the merges differ from merges.txt";

  const Tokenizer& tokenizer = phi4_mini_tokenizer(o200k_path);
  EXPECT_EQ(tokenizer.vocab_size(), 200064);  // padded to the embedding's rows
  EXPECT_EQ(tokenizer.pre_tokenizer(), PreTokenizer::Gpt4o);
  EXPECT_EQ(tokenizer.token_type(200063), TokenType::Unused);
  EXPECT_EQ(tokenizer.token_bytes(200063), "");
  EXPECT_EQ(tokenizer.find_token("<|end|>"), 200020);
  EXPECT_EQ(tokenizer.token_type(200020), TokenType::Control);
  EXPECT_EQ(tokenizer.token_type(200023), TokenType::UserDefined);  // <|tool|>: not special in HF
  EXPECT_EQ(tokenizer.token_type(200014), TokenType::Normal);       // <|endoftext14|>: plain vocab
  EXPECT_FALSE(tokenizer.vocab().add_bos);
  EXPECT_FALSE(tokenizer.strips_leading_space());
  for (int32_t id : {199999, 200020}) EXPECT_TRUE(tokenizer.is_end_of_generation(id)) << id;  // generation_config
}

TEST(Phi4MiniTokenizer, HardStringsMatchHuggingFace) {
  PHIRUN_REQUIRE_O200K_VOCAB(o200k_path);
  const Tokenizer& tokenizer = phi4_mini_tokenizer(o200k_path);
  const nlohmann::json fixture = testing::read_json_fixture("phi4_mini_hard_strings.json");
  ASSERT_GE(fixture.at("cases").size(), 130u);
  for (const auto& c : fixture.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    const std::string text = c.at("text").get<std::string>();
    std::vector<std::string_view> words;
    split_words(PreTokenizer::Gpt4o, text, words);
    std::vector<std::string> spelled;
    for (std::string_view word : words) spelled.push_back(byte_level_encode(word));
    EXPECT_EQ(spelled, c.at("words").get<std::vector<std::string>>()) << "case " << name << ": pre-tokenizer words";

    const Ids ids = tokenizer.encode(text);
    if (const std::string difference = first_difference(tokenizer, c.at("ids").get<Ids>(), ids); !difference.empty()) {
      ADD_FAILURE() << "case " << name << ": " << difference;
    }
    const Ids plain = tokenizer.encode(text, false);
    const auto expected_plain = c.at("ids_special_not_parsed").get<Ids>();
    if (const std::string difference = first_difference(tokenizer, expected_plain, plain); !difference.empty()) {
      ADD_FAILURE() << "case " << name << ", special tokens not parsed: " << difference;
    }
    EXPECT_EQ(repair_utf8(tokenizer.decode(ids, true)), c.at("decoded").get<std::string>()) << "case " << name;
    EXPECT_EQ(repair_utf8(tokenizer.decode(ids)), c.at("decoded_skip_special").get<std::string>()) << "case " << name;
    EXPECT_EQ(stream_decode(tokenizer, ids, true), c.at("decoded").get<std::string>()) << "case " << name;
  }
}

TEST(Phi4MiniTokenizer, EvalTextsMatchHuggingFace) {
  PHIRUN_REQUIRE_O200K_VOCAB(o200k_path);
  const Tokenizer& tokenizer = phi4_mini_tokenizer(o200k_path);
  const nlohmann::json fixture = testing::read_json_fixture("phi4_mini_eval_text.json");
  const auto block_size = fixture.at("block_size").get<size_t>();
  ASSERT_EQ(fixture.at("files").size(), 3u);
  for (const auto& file : fixture.at("files")) {
    const std::string name = file.at("name").get<std::string>();
    const std::string text = testing::read_file_bytes("tests/data/eval-text/" + name);
    ASSERT_EQ(text.size(), file.at("bytes").get<size_t>()) << name;
    for (const std::string prefix : {"", "plain_"}) {
      const auto start = std::chrono::steady_clock::now();
      const Ids ids = tokenizer.encode(text, prefix.empty());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("[ info     ] %s%s: %zu bytes -> %zu tokens in %.3f s\n", name.c_str(),
                  prefix.empty() ? "" : " (special tokens not parsed)", text.size(), ids.size(), seconds);
      EXPECT_EQ(ids.size(), file.at(prefix + "token_count").get<size_t>()) << name << " " << prefix;
      const auto first_ids = file.at(prefix + "first_ids").get<Ids>();
      const std::span<const int32_t> our_first(ids.data(), std::min(ids.size(), first_ids.size()));
      if (const std::string difference = first_difference(tokenizer, first_ids, our_first); !difference.empty()) {
        ADD_FAILURE() << name << " " << prefix << ", first ids: " << difference;
      }
      const auto hashes = file.at(prefix + "block_hashes").get<std::vector<std::string>>();
      int bad_blocks = 0;
      for (size_t block = 0; block < hashes.size() && block * block_size < ids.size(); ++block) {
        const size_t begin = block * block_size;
        const size_t count = std::min(block_size, ids.size() - begin);
        if (hex64(testing::fnv1a64_of_ids({ids.data() + begin, count})) != hashes[block] && ++bad_blocks <= 3) {
          ADD_FAILURE() << name << " " << prefix << ": block " << block
                        << " differs; our ids there:" << testing::ids_around(tokenizer, ids, begin + 4);
        }
      }
      EXPECT_EQ(bad_blocks, 0) << name << " " << prefix;
      EXPECT_TRUE(tokenizer.decode(ids, true) == text) << name << ": decode(encode(text)) differs from the text";
    }
  }
}

}  // namespace
}  // namespace phirun
