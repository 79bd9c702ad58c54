// SentencePiece BPE on tiny hand-built vocabularies: merge order by score (leftmost on ties), the
// "▁" prefix, byte fallback and <unk>, Unused pieces split again, decoding, and validation errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tokenizer/streaming_decoder.h"
#include "tokenizer/tokenizer.h"

namespace phirun {
namespace {

using Ids = std::vector<int32_t>;

constexpr const char* kSpace = "\xE2\x96\x81";  // "▁"

// <unk> 0, <s> 1, </s> 2; with_bytes: <0x00>..<0xFF> at 3..258. Pieces are added by add().
struct SpmVocab {
  TokenizerVocab vocab;
  explicit SpmVocab(bool with_bytes = true) {
    vocab.model = "llama";
    add("<unk>", 0, TokenType::Unknown);
    add("<s>", 0, TokenType::Control);
    add("</s>", 0, TokenType::Control);
    vocab.unk_id = 0;
    vocab.bos_id = 1;
    vocab.eos_id = 2;
    if (with_bytes) {
      for (int byte = 0; byte < 256; ++byte) {
        char text[8];
        std::snprintf(text, sizeof text, "<0x%02X>", byte);
        add(text, 0, TokenType::Byte);
      }
    }
  }
  int32_t add(const std::string& text, float score, TokenType type = TokenType::Normal) {
    vocab.tokens.push_back(text);
    vocab.scores.push_back(score);
    vocab.token_types.push_back(type);
    return static_cast<int32_t>(vocab.tokens.size() - 1);
  }
};

std::string error_of(const TokenizerVocab& vocab) {
  try {
    Tokenizer tokenizer(vocab);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST(SentencePieceBpe, HighestScoredPieceMergesFirst) {
  SpmVocab spm;
  const int32_t space = spm.add(kSpace, -1);
  spm.add("a", -2);
  const int32_t b = spm.add("b", -3);
  const int32_t c = spm.add("c", -4);
  const int32_t ab = spm.add("ab", -10);
  const int32_t bc = spm.add("bc", -5);  // scores higher than "ab": wins in "abc"
  const int32_t space_a = spm.add(std::string(kSpace) + "a", -20);
  const Tokenizer tokenizer(spm.vocab);
  EXPECT_EQ(tokenizer.encode("abc"), (Ids{space_a, bc}));
  EXPECT_EQ(tokenizer.encode("ab"), (Ids{space, ab}));  // "ab" (-10) goes before "▁a" (-20)
  EXPECT_EQ(tokenizer.encode("b a"), (Ids{space, b, space_a}));
  EXPECT_EQ(tokenizer.encode("c"), (Ids{space, c}));
  EXPECT_EQ(tokenizer.decode(Ids{space, b, space_a}), "b a");  // the leading "▁" is dropped again
  EXPECT_EQ(tokenizer.decode(Ids{b, space_a}), "b a");
}

TEST(SentencePieceBpe, EqualScoresMergeLeftmostFirst) {
  SpmVocab spm;
  spm.vocab.add_space_prefix = false;
  const int32_t a = spm.add("a", -1);
  const int32_t aa = spm.add("aa", -2);
  const Tokenizer tokenizer(spm.vocab);
  EXPECT_EQ(tokenizer.encode("aaa"), (Ids{aa, a}));
  EXPECT_EQ(tokenizer.encode("aaaaa"), (Ids{aa, aa, a}));
}

TEST(SentencePieceBpe, ByteFallbackAndUnknown) {
  SpmVocab spm;
  const int32_t space = spm.add(kSpace, -1);
  const int32_t x = spm.add("x", -2);
  const Tokenizer tokenizer(spm.vocab);
  // "é" (c3 a9) and "\n" have no piece: their bytes.
  EXPECT_EQ(tokenizer.encode("x\xC3\xA9\n"), (Ids{space, x, 3 + 0xC3, 3 + 0xA9, 3 + 0x0A}));
  EXPECT_EQ(tokenizer.decode(Ids{space, x, 3 + 0xC3, 3 + 0xA9, 3 + 0x0A}), "x\xC3\xA9\n");
  EXPECT_EQ(tokenizer.token_bytes(3 + 0x41), "A");
  StreamingDecoder decoder(tokenizer, false, /*starts_text=*/true);
  EXPECT_EQ(decoder.push(space), "");
  EXPECT_EQ(decoder.push(x), "x");
  EXPECT_EQ(decoder.push(3 + 0xC3), "");
  EXPECT_EQ(decoder.push(3 + 0xA9), "\xC3\xA9");
  // Continuing a prompt (the default), the space stays: " x", as llama.cpp streams it.
  StreamingDecoder continuation(tokenizer);
  EXPECT_EQ(continuation.push(space), " ");
  EXPECT_EQ(continuation.push(x), "x");

  SpmVocab no_bytes(false);
  const int32_t space2 = no_bytes.add(kSpace, -1);
  const int32_t x2 = no_bytes.add("x", -2);
  const Tokenizer unk_only(no_bytes.vocab);
  // A run of characters without pieces is one <unk>, as sentencepiece and Hugging Face give.
  EXPECT_EQ(unk_only.encode("x\xC3\xA9yz x"), (Ids{space2, x2, 0, space2, x2}));
  EXPECT_EQ(unk_only.decode(Ids{x2, 0, x2}), "xx");
  EXPECT_EQ(unk_only.decode(Ids{x2, 0, x2}, true), "x<unk>x");
}

TEST(SentencePieceBpe, UnusedPiecesAreSplitAgain) {
  SpmVocab spm;
  spm.vocab.add_space_prefix = false;
  const int32_t a = spm.add("a", -1);
  const int32_t b = spm.add("b", -1);
  const int32_t ab = spm.add("ab", 5, TokenType::Unused);  // merges first, then splits back
  const int32_t abb = spm.add("abb", 1);                   // reachable only through "ab"
  const Tokenizer tokenizer(spm.vocab);
  EXPECT_EQ(tokenizer.encode("ab"), (Ids{a, b}));
  EXPECT_EQ(tokenizer.encode("abb"), Ids{abb});
  EXPECT_EQ(tokenizer.decode(Ids{ab}), "");  // Unused tokens decode to nothing
}

TEST(SentencePieceBpe, SpecialTokensStripAndPrefix) {
  SpmVocab spm;
  spm.add(kSpace, -1);
  spm.add("x", -2);
  const int32_t space_x = spm.add(std::string(kSpace) + "x", -3);
  const int32_t user = spm.add("<|user|>", 0, TokenType::Control);
  const int32_t tool = spm.add("<tool>", 0, TokenType::UserDefined);
  spm.vocab.rstrip_ids = {user};
  spm.vocab.lstrip_ids = {tool};
  const Tokenizer tokenizer(spm.vocab);
  // Each stretch gets its "▁"; <|user|> takes the white space after it, <tool> the one before.
  EXPECT_EQ(tokenizer.encode("x<|user|> \n x"), (Ids{space_x, user, space_x}));
  EXPECT_EQ(tokenizer.encode("x \t<tool>x"), (Ids{space_x, tool, space_x}));
  EXPECT_EQ(tokenizer.encode("<|user|>"), Ids{user});
  // Without parse_special a Control token is text; a UserDefined one is still matched.
  EXPECT_EQ(tokenizer.encode("<tool>", false), Ids{tool});
  EXPECT_GT(tokenizer.encode("<|user|>", false).size(), 2u);
  EXPECT_EQ(tokenizer.decode(Ids{user, space_x, tool}), "x<tool>");
  EXPECT_EQ(tokenizer.decode(Ids{user, space_x}, true), "<|user|> x");
}

TEST(SentencePieceBpe, RejectsBadVocabularies) {
  SpmVocab spm;
  spm.add("a", 0);
  TokenizerVocab vocab = spm.vocab;
  vocab.scores.pop_back();
  EXPECT_EQ(error_of(vocab),
            "tokenizer: a \"llama\" (SentencePiece) vocabulary needs one score per token: 259 scores for 260 tokens");
  vocab = spm.vocab;
  vocab.scores.back() = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(error_of(vocab), "tokenizer: token 259 \"a\" has score NaN");
  vocab = spm.vocab;
  vocab.tokens[10] = "<0xZZ>";
  EXPECT_EQ(error_of(vocab), "tokenizer: token 10 \"<0xZZ>\" has type Byte but is not of the form <0xXX>");
  SpmVocab no_bytes(false);
  no_bytes.add("a", 0);
  no_bytes.vocab.unk_id = -1;
  EXPECT_EQ(error_of(no_bytes.vocab),
            "tokenizer: a \"llama\" (SentencePiece) vocabulary needs all 256 byte tokens <0x00>..<0xFF> or an unknown "
            "token for characters it has no piece for; this one has 0 byte tokens and no unknown_token_id");
  vocab = spm.vocab;
  vocab.rstrip_ids = {259};
  EXPECT_EQ(
      error_of(vocab),
      "tokenizer: rstrip token 259 \"a\" is not a special token (Control, UserDefined or Unknown), so it is never "
      "matched in text");
  vocab.rstrip_ids = {260};
  EXPECT_EQ(error_of(vocab), "tokenizer: rstrip token id 260 is out of range for a vocabulary of 260 tokens");
}

}  // namespace
}  // namespace phirun
