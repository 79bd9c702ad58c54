// Our reading of llama.cpp's vocabulary-only GGUFs (tests/data/ggml-vocab): the model kind, the
// special ids, the token types and the strip flags llama.cpp would give them, as llama.cpp wrote
// and reads them. The interop check of issue 6 item 7, tokenizer side.
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/gguf.h"
#include "runtime/tokenizer_loader.h"
#include "tokenizer/tokenizer.h"

namespace phirun {
namespace {

using Ids = std::vector<int32_t>;

TokenizerVocab vocab_of(const char* name) {
  return vocab_from_gguf(GgufFile::open(std::string("tests/data/ggml-vocab/") + name));
}

// The ids of each token type, as runs "first..last" for short messages.
std::vector<std::pair<TokenType, std::pair<int32_t, int32_t>>> type_runs(const TokenizerVocab& vocab) {
  std::vector<std::pair<TokenType, std::pair<int32_t, int32_t>>> runs;
  for (int32_t id = 0; id < static_cast<int32_t>(vocab.token_types.size()); ++id) {
    if (!runs.empty() && runs.back().first == vocab.token_types[id] && runs.back().second.second == id - 1) {
      runs.back().second.second = id;
    } else {
      runs.push_back({vocab.token_types[id], {id, id}});
    }
  }
  return runs;
}

TEST(LlamaCppVocab, Phi3) {
  const TokenizerVocab vocab = vocab_of("ggml-vocab-phi-3.gguf");
  EXPECT_EQ(vocab.model, "llama");
  EXPECT_EQ(vocab.pre, "default");
  ASSERT_EQ(vocab.tokens.size(), 32064u);
  ASSERT_EQ(vocab.scores.size(), 32064u);
  EXPECT_TRUE(vocab.merges.empty());
  EXPECT_EQ(vocab.bos_id, 1);
  EXPECT_EQ(vocab.eos_id, 32000);
  EXPECT_EQ(vocab.unk_id, 0);
  EXPECT_EQ(vocab.pad_id, 32000);
  EXPECT_EQ(vocab.eot_id, -1);
  EXPECT_TRUE(vocab.add_bos);
  EXPECT_TRUE(vocab.add_space_prefix);
  using T = TokenType;
  const std::vector<std::pair<TokenType, std::pair<int32_t, int32_t>>> expected_types = {
      {T::Control, {0, 1}},          // <unk>, <s>
      {T::UserDefined, {2, 2}},      // </s>: not special in Phi-3's tokenizer.json
      {T::Byte, {3, 258}},           // <0x00>..<0xFF>
      {T::Normal, {259, 31999}},     // the SentencePiece pieces
      {T::Control, {32000, 32010}},  // <|endoftext|> .. <|user|>
      {T::Unknown, {32011, 32063}},  // "[PAD32011]".. (llama.cpp's padding to the embedding rows)
  };
  EXPECT_EQ(type_runs(vocab), expected_types);
  EXPECT_EQ(vocab.tokens[32000], "<|endoftext|>");
  EXPECT_EQ(vocab.tokens[32001], "<|assistant|>");
  EXPECT_EQ(vocab.tokens[32006], "<|system|>");
  EXPECT_EQ(vocab.tokens[32007], "<|end|>");
  EXPECT_EQ(vocab.tokens[32010], "<|user|>");
  EXPECT_EQ(vocab.tokens[32063], "[PAD32063]");
  EXPECT_EQ(vocab.tokens[259], "\xE2\x96\x81\xE2\x96\x81");  // "▁▁"
  EXPECT_EQ(vocab.scores[259], -1e9f);
  EXPECT_EQ(vocab.scores[260], -1.0f);

  // No phirun strip keys and general.name "Phi3": llama.cpp's rule.
  Ids rstrip = {2};
  for (int32_t id = 32001; id < 32064; ++id) rstrip.push_back(id);
  EXPECT_EQ(vocab.rstrip_ids, rstrip);
  EXPECT_TRUE(vocab.lstrip_ids.empty());

  const Tokenizer tokenizer(vocab);
  EXPECT_FALSE(tokenizer.pre_tokenizer().has_value());
  EXPECT_TRUE(tokenizer.strips_leading_space());
  for (int32_t id : {32000, 32007}) EXPECT_TRUE(tokenizer.is_end_of_generation(id)) << id;
  EXPECT_EQ(tokenizer.encode("Hello world"), (Ids{1, 15043, 3186}));
  // llama.cpp's rule strips the newline after <|user|> (Hugging Face's Phi-3-vision file does not:
  // see test_phi3_tokenizer.cpp, which uses that file's flags).
  EXPECT_EQ(tokenizer.encode("<|user|>\nHi<|end|>"), (Ids{1, 32010, 6324, 32007}));
}

TEST(LlamaCppVocab, LlamaSpm) {
  const TokenizerVocab vocab = vocab_of("ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(vocab.model, "llama");
  EXPECT_EQ(vocab.pre, "default");
  ASSERT_EQ(vocab.tokens.size(), 32000u);
  ASSERT_EQ(vocab.scores.size(), 32000u);
  EXPECT_EQ(vocab.bos_id, 1);
  EXPECT_EQ(vocab.eos_id, 2);
  EXPECT_EQ(vocab.unk_id, 0);
  EXPECT_EQ(vocab.pad_id, -1);
  EXPECT_TRUE(vocab.add_bos);
  using T = TokenType;
  const std::vector<std::pair<TokenType, std::pair<int32_t, int32_t>>> expected_types = {
      {T::Unknown, {0, 0}}, {T::Control, {1, 2}}, {T::Byte, {3, 258}}, {T::Normal, {259, 31999}}};
  EXPECT_EQ(type_runs(vocab), expected_types);
  EXPECT_TRUE(vocab.rstrip_ids.empty());  // general.name "llama-spm": no strip rule

  // The same pieces and scores as Phi-3's first 32000.
  const TokenizerVocab phi3 = vocab_of("ggml-vocab-phi-3.gguf");
  EXPECT_TRUE(std::equal(vocab.tokens.begin() + 3, vocab.tokens.end(), phi3.tokens.begin() + 3));
  EXPECT_TRUE(std::equal(vocab.scores.begin() + 3, vocab.scores.end(), phi3.scores.begin() + 3));

  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("Hello world"), (Ids{1, 15043, 3186}));
  // <unk> is matched in text only when special tokens are parsed, and hidden when decoding.
  EXPECT_EQ(tokenizer.encode("<unk>"), (Ids{1, 0}));
  EXPECT_GT(tokenizer.encode("<unk>", false).size(), 2u);
  EXPECT_EQ(tokenizer.decode(Ids{1, 0, 15043}), "Hello");
  EXPECT_EQ(tokenizer.decode(Ids{1, 0, 15043}, true), "<s><unk> Hello");
}

}  // namespace
}  // namespace phirun
