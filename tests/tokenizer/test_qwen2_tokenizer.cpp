// Qwen2's real tokenizer (llama.cpp's ggml-vocab-qwen2.gguf, fetched by scripts/fetch-test-data.sh)
// through phirun's loader: llama.cpp's own Qwen2 test vectors (made with the real Hugging Face
// tokenizer), and Hugging Face `tokenizers` with the vocabulary rebuilt as Qwen2's tokenizer.json
// (tests/fixtures/make_qwen2_tokenizer_fixtures.py) on the hard strings and the evaluation texts:
// pre-tokenizer words, ids with special tokens parsed and not, decoding. phirun does not apply
// Qwen2's NFC normalizer: the hard strings NFC changes (decomposed accents) are counted, not compared.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "runtime/gguf.h"
#include "runtime/tokenizer_loader.h"
#include "tests/common/test_model.h"
#include "tests/tokenizer/oracle_fixtures.h"
#include "tests/tokenizer/vector_files.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

using Ids = std::vector<int32_t>;
using testing::first_difference;

// $PHIRUN_QWEN2_VOCAB, else tokenizers/ggml-vocab-qwen2.gguf in the cache folder fetch-test-data.sh fills.
std::string qwen2_vocab_path() {
  if (const char* path = std::getenv("PHIRUN_QWEN2_VOCAB")) return path;
  const std::filesystem::path models = std::filesystem::path(testing::default_model_path_for_tests()).parent_path();
  return (models.parent_path() / "tokenizers" / "ggml-vocab-qwen2.gguf").string();
}

#define REQUIRE_QWEN2_VOCAB(path)                                                                   \
  const std::string path = qwen2_vocab_path();                                                      \
  if (!std::filesystem::exists(path)) {                                                             \
    if (::phirun::testing::model_is_required())                                                     \
      FAIL() << "Qwen2's vocabulary missing at " << path << ": run scripts/fetch-test-data.sh";     \
    GTEST_SKIP() << "Qwen2's vocabulary missing at " << path << ": run scripts/fetch-test-data.sh"; \
  }

const Tokenizer& qwen2_tokenizer(const std::string& path) {
  static const std::unique_ptr<Tokenizer> tokenizer =
      std::make_unique<Tokenizer>(vocab_from_gguf(GgufFile::open(path)));
  return *tokenizer;
}

std::string hex64(uint64_t value) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(value));
  return hex;
}

TEST(Qwen2Tokenizer, LoadsWithItsPreTokenizer) {
  REQUIRE_QWEN2_VOCAB(path);
  const Tokenizer& tokenizer = qwen2_tokenizer(path);
  EXPECT_EQ(tokenizer.vocab_size(), 151936);
  EXPECT_EQ(tokenizer.pre_tokenizer(), PreTokenizer::Qwen2);
  EXPECT_FALSE(tokenizer.vocab().add_bos);
  EXPECT_EQ(tokenizer.find_token("<|im_end|>"), 151645);
  EXPECT_EQ(tokenizer.token_type(151645), TokenType::Control);
}

TEST(Qwen2Tokenizer, LlamaCppVectorsMatch) {
  REQUIRE_QWEN2_VOCAB(path);
  const Tokenizer& tokenizer = qwen2_tokenizer(path);
  const auto vectors = testing::read_llama_cpp_vectors("tests/data/ggml-vocab/ggml-vocab-qwen2.gguf.inp",
                                                       "tests/data/ggml-vocab/ggml-vocab-qwen2.gguf.out");
  ASSERT_EQ(vectors.size(), 46u);
  for (size_t i = 0; i < vectors.size(); ++i) {
    const Ids ids = tokenizer.encode(vectors[i].text);
    if (const std::string difference = first_difference(tokenizer, vectors[i].ids, ids); !difference.empty()) {
      ADD_FAILURE() << "vector " << i << ": " << difference;
    }
  }
}

TEST(Qwen2Tokenizer, HardStringsMatchHuggingFace) {
  REQUIRE_QWEN2_VOCAB(path);
  const Tokenizer& tokenizer = qwen2_tokenizer(path);
  const nlohmann::json fixture = testing::read_json_fixture("qwen2_hard_strings.json");
  ASSERT_GE(fixture.at("cases").size(), 120u);
  int compared = 0, normalized = 0;
  for (const auto& c : fixture.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    const std::string text = c.at("text").get<std::string>();
    if (c.at("nfc_changes").get<bool>()) {
      ++normalized;  // Hugging Face composes the text first; phirun does not normalize
      continue;
    }
    ++compared;
    std::vector<std::string_view> words;
    split_words(PreTokenizer::Qwen2, text, words);
    std::vector<std::string> spelled;
    for (std::string_view word : words) spelled.push_back(byte_level_encode(word));
    EXPECT_EQ(spelled, c.at("words").get<std::vector<std::string>>()) << "case " << name << ": pre-tokenizer words";
    const Ids ids = tokenizer.encode(text);
    if (const std::string difference = first_difference(tokenizer, c.at("ids").get<Ids>(), ids); !difference.empty()) {
      ADD_FAILURE() << "case " << name << ": " << difference;
    }
    const Ids plain = tokenizer.encode(text, false);
    if (const std::string difference = first_difference(tokenizer, c.at("ids_special_not_parsed").get<Ids>(), plain);
        !difference.empty()) {
      ADD_FAILURE() << "case " << name << ", special tokens not parsed: " << difference;
    }
    EXPECT_EQ(repair_utf8(tokenizer.decode(ids, true)), c.at("decoded").get<std::string>()) << "case " << name;
  }
  std::printf("[ info     ] %d hard strings compared, %d left out (NFC changes them)\n", compared, normalized);
  EXPECT_LE(normalized, 8);
}

TEST(Qwen2Tokenizer, EvalTextsMatchHuggingFace) {
  REQUIRE_QWEN2_VOCAB(path);
  const Tokenizer& tokenizer = qwen2_tokenizer(path);
  const nlohmann::json fixture = testing::read_json_fixture("qwen2_eval_text.json");
  const auto block_size = fixture.at("block_size").get<size_t>();
  ASSERT_EQ(fixture.at("files").size(), 3u);
  for (const auto& file : fixture.at("files")) {
    const std::string name = file.at("name").get<std::string>();
    ASSERT_FALSE(file.at("nfc_changes").get<bool>()) << name;
    const std::string text = testing::read_file_bytes("tests/data/eval-text/" + name);
    ASSERT_EQ(text.size(), file.at("bytes").get<size_t>()) << name;
    for (const std::string prefix : {"", "plain_"}) {
      const Ids ids = tokenizer.encode(text, prefix.empty());
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
