// vocab_from_gguf on small GGUF files built in memory: what it reads, and the exact error for
// each defect (missing key, wrong type, length mismatch, id out of range).
#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/gguf.h"
#include "runtime/tokenizer_loader.h"
#include "tokenizer/tokenizer.h"

namespace phirun {
namespace {

// A valid little byte-level vocabulary: "a", "b", "ab" and one merge.
GgufWriter minimal_writer() {
  GgufWriter writer;
  writer.set("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
  writer.set("tokenizer.ggml.pre", GgufValue::of_string("smollm"));
  writer.set("tokenizer.ggml.tokens", GgufValue::of_strings({"<|end|>", "a", "b", "ab"}));
  writer.set("tokenizer.ggml.token_type", GgufValue::of_i32s({3, 1, 1, 1}));
  writer.set("tokenizer.ggml.merges", GgufValue::of_strings({"a b"}));
  writer.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(0));
  return writer;
}

TokenizerVocab load(const GgufWriter& writer) {
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "test.gguf");
  return vocab_from_gguf(file);
}

std::string error_of(const GgufWriter& writer) {
  try {
    load(writer);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST(TokenizerLoader, ReadsTheTokenizerKeys) {
  GgufWriter writer = minimal_writer();
  writer.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(0));
  writer.set("tokenizer.ggml.padding_token_id", GgufValue::of_i32(1));
  writer.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(true));
  const TokenizerVocab vocab = load(writer);
  EXPECT_EQ(vocab.model, "gpt2");
  EXPECT_EQ(vocab.pre, "smollm");
  EXPECT_EQ(vocab.tokens, (std::vector<std::string>{"<|end|>", "a", "b", "ab"}));
  EXPECT_EQ(vocab.token_types,
            (std::vector<TokenType>{TokenType::Control, TokenType::Normal, TokenType::Normal, TokenType::Normal}));
  EXPECT_EQ(vocab.merges, std::vector<std::string>{"a b"});
  EXPECT_EQ(vocab.bos_id, 0);
  EXPECT_EQ(vocab.eos_id, 0);
  EXPECT_EQ(vocab.eot_id, -1);
  EXPECT_EQ(vocab.unk_id, -1);
  EXPECT_EQ(vocab.pad_id, 1);
  EXPECT_TRUE(vocab.add_bos);
  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("ab<|end|>"), (std::vector<int32_t>{0, 3, 0}));
}

TEST(TokenizerLoader, OptionalKeysHaveDefaults) {
  GgufWriter writer;
  writer.set("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
  writer.set("tokenizer.ggml.tokens", GgufValue::of_strings({"a", "b"}));
  writer.set("tokenizer.ggml.merges", GgufValue::of_strings({}));
  const TokenizerVocab vocab = load(writer);
  EXPECT_EQ(vocab.pre, "default");  // older files have no tokenizer.ggml.pre
  EXPECT_TRUE(vocab.token_types.empty());
  EXPECT_EQ(vocab.bos_id, -1);
  EXPECT_EQ(vocab.eos_id, -1);
  EXPECT_FALSE(vocab.add_bos);
}

TEST(TokenizerLoader, ErrorsNameTheFileAndKey) {
  GgufWriter writer = minimal_writer();
  writer.set("tokenizer.ggml.model", GgufValue::of_u32(2));
  EXPECT_EQ(error_of(writer), "test.gguf: metadata key tokenizer.ggml.model is a u32, expected a string");

  writer = GgufWriter();
  writer.set("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.tokens: missing: the file carries no tokenizer vocabulary");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.tokens", GgufValue::of_i32s({1, 2}));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.tokens: expected an array of strings, found an array of i32");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.tokens", GgufValue::of_strings({}));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.tokens: the token list is empty");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.token_type", GgufValue::of_i32s({3, 1, 1}));
  EXPECT_EQ(error_of(writer),
            "test.gguf: tokenizer.ggml.token_type: 3 token types for 4 tokens (tokenizer.ggml.tokens)");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.token_type", GgufValue::of_i32s({3, 1, 7, 1}));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.token_type: token 2 has unknown type 7 (known: 0..6)");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.token_type", GgufValue::of_strings({"a", "b", "c", "d"}));
  EXPECT_EQ(error_of(writer),
            "test.gguf: tokenizer.ggml.token_type: expected an array of integers, found an array of string");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.token_type", GgufValue::of_u32(1));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.token_type: expected an array of integers, found a u32");

  GgufWriter no_merges;
  no_merges.set("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
  no_merges.set("tokenizer.ggml.tokens", GgufValue::of_strings({"a"}));
  EXPECT_EQ(error_of(no_merges),
            "test.gguf: tokenizer.ggml.merges: missing: a \"gpt2\" (byte-level BPE) tokenizer needs its merges");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.merges", GgufValue::of_strings({"a b", "a b", "b a", "ab ab"}));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.merges: 4 merges for only 4 tokens");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(4));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.eos_token_id: token id 4 is out of range for 4 tokens");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.bos_token_id", GgufValue::of_i32(-1));
  EXPECT_EQ(error_of(writer), "test.gguf: metadata key tokenizer.ggml.bos_token_id is negative (-1)");

  writer = minimal_writer();
  writer.set("tokenizer.ggml.add_bos_token", GgufValue::of_u32(1));
  EXPECT_EQ(error_of(writer), "test.gguf: metadata key tokenizer.ggml.add_bos_token is a u32, expected a bool");
}

// A little SentencePiece vocabulary: <unk>, <s>, </s>, the 256 byte tokens, pieces and an added token.
GgufWriter sentencepiece_writer() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int byte = 0; byte < 256; ++byte) {
    char text[8];
    std::snprintf(text, sizeof text, "<0x%02X>", byte);
    tokens.push_back(text);
    types.push_back(6);
  }
  for (const char* piece : {"\xE2\x96\x81", "a", "b",
                            "\xE2\x96\x81"
                            "a",
                            "ab",
                            "\xE2\x96\x81"
                            "ab",
                            "<|end|>"}) {
    tokens.push_back(piece);
    types.push_back(1);
  }
  types.back() = 3;
  std::vector<float> scores(tokens.size(), 0.0f);
  scores[262] = -1;  // "▁a"
  scores[263] = -2;  // "ab"
  scores[264] = -3;  // "▁ab"
  GgufWriter writer;
  writer.set("general.name", GgufValue::of_string("Phi3"));
  writer.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  writer.set("tokenizer.ggml.tokens", GgufValue::of_strings(tokens));
  writer.set("tokenizer.ggml.token_type", GgufValue::of_i32s(types));
  writer.set("tokenizer.ggml.scores", GgufValue::of_f32s(scores));
  writer.set("tokenizer.ggml.unknown_token_id", GgufValue::of_u32(0));
  writer.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(1));
  writer.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(true));
  return writer;
}

TEST(TokenizerLoader, ReadsSentencePieceKeys) {
  GgufWriter writer = sentencepiece_writer();
  TokenizerVocab vocab = load(writer);
  EXPECT_EQ(vocab.model, "llama");
  ASSERT_EQ(vocab.scores.size(), 266u);
  EXPECT_EQ(vocab.scores[264], -3.0f);
  EXPECT_TRUE(vocab.add_space_prefix);  // the key is absent: llama.cpp's default for "llama"
  // general.name says Phi-3 and the phirun strip keys are absent: llama.cpp's rule, every special
  // token but <unk>, <s> and <|endoftext|> strips white space on its right.
  EXPECT_EQ(vocab.rstrip_ids, (std::vector<int32_t>{2, 265}));
  EXPECT_TRUE(vocab.lstrip_ids.empty());
  const Tokenizer tokenizer(vocab);
  // "▁ab" "▁a" <|end|> (its two spaces taken) "▁" "b": the stretch after a special token gets a "▁".
  EXPECT_EQ(tokenizer.encode("ab a<|end|>  b"), (std::vector<int32_t>{1, 264, 262, 265, 259, 261}));
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("ab a")), "ab a");

  // phirun's keys, when present, say exactly which tokens strip (here: none to the right).
  writer.set(std::string(kRstripTokenIdsKey), GgufValue::of_i32s({}));
  writer.set(std::string(kLstripTokenIdsKey), GgufValue::of_i32s({265}));
  writer.set("tokenizer.ggml.add_space_prefix", GgufValue::of_bool(false));
  vocab = load(writer);
  EXPECT_TRUE(vocab.rstrip_ids.empty());
  EXPECT_EQ(vocab.lstrip_ids, std::vector<int32_t>{265});
  EXPECT_FALSE(vocab.add_space_prefix);
  EXPECT_EQ(Tokenizer(vocab).encode("ab  <|end|> a"), (std::vector<int32_t>{1, 263, 265, 262}));
}

TEST(TokenizerLoader, SentencePieceErrors) {
  GgufWriter writer = sentencepiece_writer();
  writer.set("tokenizer.ggml.scores", GgufValue::of_f32s({0.0f, 1.0f}));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.scores: 2 scores for 266 tokens (tokenizer.ggml.tokens)");
  writer.set("tokenizer.ggml.scores", GgufValue::of_i32s({0, 1}));
  EXPECT_EQ(error_of(writer), "test.gguf: tokenizer.ggml.scores: expected an array of floats, found an array of i32");

  writer = sentencepiece_writer();
  GgufWriter no_scores;
  no_scores.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  no_scores.set("tokenizer.ggml.tokens", GgufValue::of_strings({"a"}));
  EXPECT_EQ(error_of(no_scores),
            "test.gguf: tokenizer.ggml.scores: missing: a \"llama\" (SentencePiece) tokenizer needs the score of every "
            "token");

  writer = sentencepiece_writer();
  writer.set("tokenizer.ggml.remove_extra_whitespaces", GgufValue::of_bool(true));
  EXPECT_EQ(error_of(writer),
            "test.gguf: tokenizer.ggml.remove_extra_whitespaces: true is not supported: phirun's SentencePiece "
            "tokenizer keeps white space as it is");

  writer = sentencepiece_writer();
  writer.set(std::string(kRstripTokenIdsKey), GgufValue::of_i32s({266}));
  EXPECT_EQ(error_of(writer),
            "test.gguf: tokenizer.phirun.rstrip_token_ids: token id 266 is out of range for 266 tokens");
  writer.set(std::string(kRstripTokenIdsKey), GgufValue::of_strings({"a"}));
  EXPECT_EQ(error_of(writer),
            "test.gguf: tokenizer.phirun.rstrip_token_ids: expected an array of integers, found an array of string");
}

TEST(TokenizerLoader, PadsTheTokenListToTheEmbeddingRows) {
  const GgufWriter writer = sentencepiece_writer();
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes.data(), bytes.size(), "test.gguf");
  TokenizerVocab vocab = vocab_from_gguf(file);
  pad_vocab_to_rows(vocab, 266, file);
  EXPECT_EQ(vocab.tokens.size(), 266u);
  pad_vocab_to_rows(vocab, 270, file);
  ASSERT_EQ(vocab.tokens.size(), 270u);
  EXPECT_EQ(vocab.tokens[269], "[PAD269]");
  EXPECT_EQ(vocab.token_types[269], TokenType::Unused);
  EXPECT_EQ(vocab.scores[269], -10000.0f);
  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{262, 268}), "a");    // padding decodes to nothing
  for (int32_t id : tokenizer.encode("[PAD268]")) EXPECT_LT(id, 266);  // and is never produced
  try {
    pad_vocab_to_rows(vocab, 200, file);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(),
                 "test.gguf: tokenizer.ggml.tokens: the tokenizer has 270 tokens but the embedding only 200 rows: ids "
                 "past the rows could not be embedded");
  }
}

}  // namespace
}  // namespace phirun
