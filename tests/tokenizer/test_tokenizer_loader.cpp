// vocab_from_gguf on small GGUF files built in memory: what it reads, and the exact error for
// each defect (missing key, wrong type, length mismatch, id out of range).
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace phirun
