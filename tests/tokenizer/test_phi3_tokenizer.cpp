// Phi-3's SentencePiece BPE tokenizer, read from llama.cpp's vocabulary GGUF (tests/data/ggml-vocab),
// against sentencepiece (ordinary text: llama.cpp's 46 vectors, the hard strings, the evaluation
// texts) and Hugging Face `tokenizers` (Phi-3's added tokens, their rstrip flags, the "▁" before
// each stretch of text, decoding). Fixtures: tests/fixtures/make_phi3_tokenizer_fixtures.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "tests/tokenizer/oracle_fixtures.h"
#include "tests/tokenizer/vector_files.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

using Ids = std::vector<int32_t>;
using testing::first_difference;

constexpr const char* kPhi3Gguf = "tests/data/ggml-vocab/ggml-vocab-phi-3.gguf";

TokenizerVocab phi3_vocab_from_gguf() { return vocab_from_gguf(GgufFile::open(kPhi3Gguf)); }

// The vocabulary as phirun's builder writes it from Phi-3's tokenizer.json: llama.cpp's GGUF plus
// the lstrip / rstrip flags of the added tokens.
const Tokenizer& phi3_tokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    TokenizerVocab vocab = phi3_vocab_from_gguf();
    vocab.lstrip_ids.clear();
    vocab.rstrip_ids.clear();
    const nlohmann::json fixture = testing::read_json_fixture("phi3_added_tokens.json");
    for (const auto& added : fixture.at("tokens")) {
      const auto id = added.at("id").get<int32_t>();
      if (added.at("lstrip").get<bool>()) vocab.lstrip_ids.push_back(id);
      if (added.at("rstrip").get<bool>()) vocab.rstrip_ids.push_back(id);
    }
    return std::make_unique<Tokenizer>(std::move(vocab));
  }();
  return *tokenizer;
}

// encode() without the BOS the vocabulary adds (the oracles' ids have none).
Ids encode_no_bos(const Tokenizer& tokenizer, std::string_view text, bool parse_special) {
  Ids ids = tokenizer.encode(text, parse_special);
  EXPECT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  if (!ids.empty()) ids.erase(ids.begin());
  return ids;
}

std::string stream_decode(const Tokenizer& tokenizer, std::span<const int32_t> ids, bool include_special) {
  StreamingDecoder decoder(tokenizer, include_special, /*starts_text=*/true);
  std::string text;
  for (int32_t id : ids) text += decoder.push(id);
  return text + decoder.flush();
}

TEST(Phi3Tokenizer, LlamaCppVectors) {
  const Tokenizer& tokenizer = phi3_tokenizer();
  const auto vectors = testing::read_llama_cpp_vectors("tests/data/ggml-vocab/ggml-vocab-phi-3.gguf.inp",
                                                       "tests/data/ggml-vocab/ggml-vocab-phi-3.gguf.out");
  ASSERT_EQ(vectors.size(), 46u);
  for (size_t i = 0; i < vectors.size(); ++i) {
    for (bool parse_special : {false, true}) {
      const Ids ids = encode_no_bos(tokenizer, vectors[i].text, parse_special);
      if (const std::string difference = first_difference(tokenizer, vectors[i].ids, ids); !difference.empty()) {
        ADD_FAILURE() << "vector " << i << " \"" << vectors[i].text << "\" (parse_special " << parse_special
                      << "): " << difference;
      }
    }
    // Decoding gives the text back: the "▁" encode put in front is dropped again.
    EXPECT_EQ(tokenizer.decode(vectors[i].ids), vectors[i].text) << "vector " << i;
  }
}

TEST(Phi3Tokenizer, HardStringsMatchSentencePieceAndHuggingFace) {
  const Tokenizer& tokenizer = phi3_tokenizer();
  const nlohmann::json fixture = testing::read_json_fixture("phi3_hard_strings.json");
  ASSERT_GE(fixture.at("cases").size(), 130u);
  for (const auto& c : fixture.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    const std::string text = c.at("text").get<std::string>();
    const auto spm_ids = c.at("spm_ids").get<Ids>();
    const auto hf_ids = c.at("hf_ids").get<Ids>();
    const auto hf_plain = c.at("hf_ids_special_not_parsed").get<Ids>();

    const Ids plain = encode_no_bos(tokenizer, text, false);
    if (const std::string difference = first_difference(tokenizer, hf_plain, plain); !difference.empty()) {
      ADD_FAILURE() << "case " << name << ", special tokens not parsed: " << difference;
    }
    // sentencepiece knows no added tokens; Hugging Face splits out the non-special </s> always.
    if (text.find("</s>") == std::string::npos) {
      if (const std::string difference = first_difference(tokenizer, spm_ids, plain); !difference.empty()) {
        ADD_FAILURE() << "case " << name << ", against sentencepiece: " << difference;
      }
      EXPECT_EQ(tokenizer.decode(spm_ids), c.at("spm_decoded").get<std::string>()) << "case " << name;
    }
    const Ids ids = encode_no_bos(tokenizer, text, true);
    if (const std::string difference = first_difference(tokenizer, hf_ids, ids); !difference.empty()) {
      ADD_FAILURE() << "case " << name << ", special tokens parsed: " << difference;
    }
    EXPECT_EQ(repair_utf8(tokenizer.decode(hf_ids, true)), c.at("hf_decoded").get<std::string>()) << "case " << name;
    EXPECT_EQ(repair_utf8(tokenizer.decode(hf_ids)), c.at("hf_decoded_skip_special").get<std::string>())
        << "case " << name;
    EXPECT_EQ(stream_decode(tokenizer, hf_ids, true), c.at("hf_decoded").get<std::string>()) << "case " << name;
  }
}

TEST(Phi3Tokenizer, EvalTextsMatchSentencePiece) {
  const Tokenizer& tokenizer = phi3_tokenizer();
  const nlohmann::json fixture = testing::read_json_fixture("phi3_eval_text.json");
  const auto block_size = fixture.at("block_size").get<size_t>();
  ASSERT_EQ(fixture.at("files").size(), 3u);
  for (const auto& file : fixture.at("files")) {
    const std::string name = file.at("name").get<std::string>();
    const std::string text = testing::read_file_bytes("tests/data/eval-text/" + name);
    ASSERT_EQ(text.size(), file.at("bytes").get<size_t>()) << name;
    // sentencepiece: the special-token texts in tinystories are ordinary text to it.
    for (const char* oracle : {"", "hf_"}) {
      const bool parse_special = std::string(oracle) == "hf_";
      const auto start = std::chrono::steady_clock::now();
      const Ids ids = encode_no_bos(tokenizer, text, parse_special);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("[ info     ] %s%s: %zu bytes -> %zu tokens in %.3f s\n", name.c_str(),
                  parse_special ? " (special tokens parsed)" : "", text.size(), ids.size(), seconds);
      const std::string prefix(oracle);
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
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx",
                      static_cast<unsigned long long>(testing::fnv1a64_of_ids({ids.data() + begin, count})));
        if (hex != hashes[block] && ++bad_blocks <= 3) {
          ADD_FAILURE() << name << " " << prefix << ": block " << block
                        << " differs; our ids there:" << testing::ids_around(tokenizer, ids, begin + 4);
        }
      }
      EXPECT_EQ(bad_blocks, 0) << name << " " << prefix;
      if (!parse_special) {
        EXPECT_TRUE(tokenizer.decode(ids) == text) << name << ": decode(encode(text)) differs from the text";
        EXPECT_TRUE(stream_decode(tokenizer, ids, false) == text) << name << ": streaming decode differs";
      }
    }
  }
}

}  // namespace
}  // namespace phirun
