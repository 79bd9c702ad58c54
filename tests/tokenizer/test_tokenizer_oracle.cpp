// The real SmolLM2 tokenizer (read from the default model's GGUF) against Hugging Face
// `tokenizers`: hard strings id for id, the three evaluation texts by count, first ids and block
// hashes, and decoding back to the exact bytes. Fixtures: tests/fixtures/make_tokenizer_fixtures.py.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tests/common/test_model.h"
#include "tests/tokenizer/oracle_fixtures.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

using testing::first_difference;
using testing::smollm2_tokenizer;

std::string stream_decode(const Tokenizer& tokenizer, std::span<const int32_t> ids, bool include_special) {
  StreamingDecoder decoder(tokenizer, include_special);
  std::string text;
  for (int32_t id : ids) text += decoder.push(id);
  return text + decoder.flush();
}

TEST(SmolLM2Tokenizer, VocabularyFromTheGguf) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const Tokenizer& tokenizer = smollm2_tokenizer(model_path);
  EXPECT_EQ(tokenizer.vocab_size(), 49152);
  EXPECT_EQ(tokenizer.vocab().merges.size(), 48900u);
  EXPECT_EQ(tokenizer.vocab().pre, "smollm");
  EXPECT_EQ(tokenizer.pre_tokenizer(), PreTokenizer::SmolLM);
  EXPECT_FALSE(tokenizer.vocab().add_bos);
  EXPECT_EQ(tokenizer.vocab().bos_id, 1);
  EXPECT_EQ(tokenizer.vocab().eos_id, 2);
  EXPECT_EQ(tokenizer.vocab().unk_id, 0);
  EXPECT_EQ(tokenizer.vocab().pad_id, 2);
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    ASSERT_EQ(tokenizer.is_control(id), id <= 16) << "token " << id << " " << tokenizer.token_text(id);
  }
  EXPECT_EQ(tokenizer.find_token("<|im_start|>"), 1);
  EXPECT_EQ(tokenizer.find_token("<|im_end|>"), 2);
  EXPECT_EQ(tokenizer.end_of_generation_ids(), (std::vector<int32_t>{0, 2}));  // <|endoftext|>, <|im_end|>
  EXPECT_EQ(tokenizer.token_bytes(*tokenizer.find_token("\xc4\xa0the")), " the");
}

TEST(SmolLM2Tokenizer, HardStringsMatchHuggingFace) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const Tokenizer& tokenizer = smollm2_tokenizer(model_path);
  const nlohmann::json fixture = testing::read_json_fixture("hard_strings.json");
  const auto& cases = fixture.at("cases");
  ASSERT_GE(cases.size(), 60u);
  for (const auto& c : cases) {
    const std::string name = c.at("name").get<std::string>();
    const std::string text = c.at("text").get<std::string>();
    const auto expected = c.at("ids").get<std::vector<int32_t>>();
    const auto expected_plain = c.at("ids_special_not_parsed").get<std::vector<int32_t>>();

    const std::vector<int32_t> ids = tokenizer.encode(text);
    if (const std::string difference = first_difference(tokenizer, expected, ids); !difference.empty()) {
      ADD_FAILURE() << "case " << name << ": " << difference;
    }
    const std::vector<int32_t> plain = tokenizer.encode(text, false);
    if (const std::string difference = first_difference(tokenizer, expected_plain, plain); !difference.empty()) {
      ADD_FAILURE() << "case " << name << ", special tokens not parsed: " << difference;
    }

    // Hugging Face decodes lossily (invalid UTF-8 -> U+FFFD); our decode gives the raw bytes.
    const std::string decoded = tokenizer.decode(expected, true);
    EXPECT_EQ(repair_utf8(decoded), c.at("decoded").get<std::string>()) << "case " << name;
    EXPECT_EQ(repair_utf8(tokenizer.decode(expected)), c.at("decoded_skip_special").get<std::string>())
        << "case " << name;
    if (c.at("round_trip").get<bool>()) {
      EXPECT_EQ(decoded, text) << "case " << name;
    }
    EXPECT_EQ(stream_decode(tokenizer, expected, true), repair_utf8(decoded)) << "case " << name;
  }
}

TEST(SmolLM2Tokenizer, EvalTextsMatchHuggingFace) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const Tokenizer& tokenizer = smollm2_tokenizer(model_path);
  const nlohmann::json fixture = testing::read_json_fixture("eval_text.json");
  const auto block_size = fixture.at("block_size").get<size_t>();
  ASSERT_EQ(fixture.at("files").size(), 3u);
  for (const auto& file : fixture.at("files")) {
    const std::string name = file.at("name").get<std::string>();
    const std::string text = testing::read_file_bytes("tests/data/eval-text/" + name);
    ASSERT_EQ(text.size(), file.at("bytes").get<size_t>()) << name;

    const auto start = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = tokenizer.encode(text);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ info     ] %s: %zu bytes -> %zu tokens in %.3f s (%.1f MB/s)\n", name.c_str(), text.size(),
                ids.size(), seconds, text.size() / seconds / 1e6);

    EXPECT_EQ(ids.size(), file.at("token_count").get<size_t>()) << name;
    const auto first_ids = file.at("first_ids").get<std::vector<int32_t>>();
    const std::span<const int32_t> our_first(ids.data(), std::min(ids.size(), first_ids.size()));
    if (const std::string difference = first_difference(tokenizer, first_ids, our_first); !difference.empty()) {
      ADD_FAILURE() << name << ", first " << first_ids.size() << " ids: " << difference;
    }

    const auto hashes = file.at("block_hashes").get<std::vector<std::string>>();
    int bad_blocks = 0;
    for (size_t block = 0; block < hashes.size(); ++block) {
      const size_t begin = block * block_size;
      if (begin >= ids.size()) break;
      const size_t count = std::min(block_size, ids.size() - begin);
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx",
                    static_cast<unsigned long long>(testing::fnv1a64_of_ids({ids.data() + begin, count})));
      if (hex == hashes[block]) continue;
      if (++bad_blocks <= 3) {
        const std::span<const int32_t> block_start(ids.data() + begin, std::min<size_t>(count, 24));
        ADD_FAILURE() << name << ": block " << block << " (ids " << begin << ".." << begin + count - 1
                      << ") differs from Hugging Face's; our ids at its start:"
                      << testing::ids_around(tokenizer, ids, begin + 4) << "\n  text there: \""
                      << tokenizer.decode(block_start, true) << "\"";
      }
    }
    EXPECT_EQ(bad_blocks, 0) << name << ": " << bad_blocks << " of " << hashes.size() << " blocks differ";

    // Decoding gives back the file byte for byte (tinystories has <|endoftext|> separators, so
    // control tokens are included), and so does the streaming decoder.
    const std::string decoded = tokenizer.decode(ids, true);
    EXPECT_TRUE(decoded == text) << name << ": decode(encode(text)) differs from the text";
    EXPECT_TRUE(stream_decode(tokenizer, ids, true) == text) << name << ": streaming decode differs";
  }
}

}  // namespace
}  // namespace phirun
