// Tokenizer behaviour around the BPE core, on tiny vocabularies: special-token parsing, BOS,
// decoding with and without control tokens, end-of-generation ids, and validation errors.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/tokenizer/tiny_vocab.h"
#include "tokenizer/tokenizer.h"

namespace phirun {
namespace {

using Ids = std::vector<int32_t>;
using testing::add_token;
using testing::byte_vocab;

std::string error_of(const TokenizerVocab& vocab) {
  try {
    Tokenizer tokenizer(vocab);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

struct ChatVocab {
  TokenizerVocab vocab = byte_vocab();
  int32_t im_start = add_token(vocab, "<|im_start|>", TokenType::Control);
  int32_t im_end = add_token(vocab, "<|im_end|>", TokenType::Control);
  int32_t endoftext = add_token(vocab, "<|endoftext|>", TokenType::Control);
  int32_t im_start_x = add_token(vocab, "<|im_start|>x", TokenType::Control);  // a longer overlapping one
  int32_t tool = add_token(vocab, "<tool>", TokenType::UserDefined);
  int32_t normal_end = add_token(vocab, "<|end|>", TokenType::Normal);  // looks special, is not
  int32_t ab = add_token(vocab, "ab", TokenType::Control);
  int32_t bcd = add_token(vocab, "bcd", TokenType::Control);
  ChatVocab() {
    vocab.eos_id = im_end;
    vocab.bos_id = im_start;
  }
};

TEST(SpecialTokens, ParsedFromTextWhenAsked) {
  const ChatVocab chat;
  const Tokenizer tokenizer(chat.vocab);
  EXPECT_EQ(tokenizer.encode("<|im_start|>hi<|im_end|>"), (Ids{chat.im_start, 'h', 'i', chat.im_end}));
  EXPECT_EQ(tokenizer.encode("a<|endoftext|><|endoftext|>b"), (Ids{'a', chat.endoftext, chat.endoftext, 'b'}));
  EXPECT_EQ(tokenizer.encode("<tool>"), Ids{chat.tool});
  // Without parse_special the same text is ordinary bytes.
  const Ids plain = tokenizer.encode("<|im_end|>", false);
  EXPECT_EQ(plain.size(), 10u);
  EXPECT_EQ(tokenizer.decode(plain), "<|im_end|>");
  // Almost-special texts stay ordinary text.
  EXPECT_EQ(tokenizer.encode("<|im_end|").size(), 9u);
  EXPECT_EQ(tokenizer.encode("<|end|>").size(), 7u);  // a Normal token is never matched in text
}

TEST(SpecialTokens, LeftmostThenLongest) {
  const ChatVocab chat;
  const Tokenizer tokenizer(chat.vocab);
  EXPECT_EQ(tokenizer.encode("<|im_start|>xy"), (Ids{chat.im_start_x, 'y'}));
  EXPECT_EQ(tokenizer.encode("<|im_start|>y"), (Ids{chat.im_start, 'y'}));
  // "ab" starts first, so it wins over the longer "bcd" that starts inside it.
  EXPECT_EQ(tokenizer.encode("abcd"), (Ids{chat.ab, 'c', 'd'}));
  EXPECT_EQ(tokenizer.encode("xbcd"), (Ids{'x', chat.bcd}));
}

TEST(SpecialTokens, SplitTheTextIntoSeparateStretches) {
  ChatVocab chat;
  const int32_t space_space = testing::add_merge(chat.vocab, " ", " ");
  const Tokenizer tokenizer(chat.vocab);
  // The stretch before a special token ends there: its trailing spaces stay together.
  EXPECT_EQ(tokenizer.encode("a  <|im_end|>"), (Ids{'a', space_space, chat.im_end}));
  EXPECT_EQ(tokenizer.encode("a  b"), (Ids{'a', ' ', ' ', 'b'}));
}

TEST(Tokenizer, AddsBosWhenTheVocabularySaysSo) {
  ChatVocab chat;
  chat.vocab.add_bos = true;
  const Tokenizer tokenizer(chat.vocab);
  EXPECT_EQ(tokenizer.encode("hi"), (Ids{chat.im_start, 'h', 'i'}));
  EXPECT_EQ(tokenizer.encode(""), Ids{chat.im_start});
}

TEST(Tokenizer, DecodeLeavesOutControlTokensUnlessAsked) {
  const ChatVocab chat;
  const Tokenizer tokenizer(chat.vocab);
  const Ids ids = {chat.im_start, 'h', 'i', chat.tool, chat.im_end, '\n'};
  EXPECT_EQ(tokenizer.decode(ids), "hi<tool>\n");
  EXPECT_EQ(tokenizer.decode(ids, true), "<|im_start|>hi<tool><|im_end|>\n");
  EXPECT_EQ(tokenizer.token_bytes(chat.im_end), "<|im_end|>");
  EXPECT_EQ(tokenizer.token_text(' '), "\xc4\xa0");
  EXPECT_EQ(tokenizer.token_bytes(' '), " ");
  EXPECT_THROW(tokenizer.decode(Ids{-1}), std::runtime_error);
  EXPECT_THROW(tokenizer.decode(Ids{tokenizer.vocab_size()}), std::runtime_error);
  EXPECT_THROW(tokenizer.token_text(100000), std::runtime_error);
}

TEST(Tokenizer, LookupsAndTypes) {
  const ChatVocab chat;
  const Tokenizer tokenizer(chat.vocab);
  EXPECT_EQ(tokenizer.vocab_size(), 256 + 8);
  EXPECT_EQ(tokenizer.find_token("<|im_end|>"), chat.im_end);
  EXPECT_EQ(tokenizer.find_token("\xc4\xa0"), ' ');
  EXPECT_EQ(tokenizer.find_token("nope"), std::nullopt);
  EXPECT_TRUE(tokenizer.is_control(chat.im_start));
  EXPECT_FALSE(tokenizer.is_control(chat.tool));
  EXPECT_FALSE(tokenizer.is_control('a'));
  EXPECT_EQ(tokenizer.token_type(chat.tool), TokenType::UserDefined);
}

TEST(Tokenizer, EndOfGenerationIds) {
  ChatVocab chat;
  const int32_t eot_id = add_token(chat.vocab, "<|eot_id|>", TokenType::Control);
  const Tokenizer tokenizer(chat.vocab);
  // eos (<|im_end|>), plus the Control tokens <|endoftext|> and <|eot_id|>; the Normal "<|end|>"
  // and the Control <|im_start|> are not end markers.
  EXPECT_EQ(tokenizer.end_of_generation_ids(), (Ids{chat.im_end, chat.endoftext, eot_id}));
  EXPECT_TRUE(tokenizer.is_end_of_generation(chat.endoftext));
  EXPECT_FALSE(tokenizer.is_end_of_generation(chat.normal_end));
  EXPECT_FALSE(tokenizer.is_end_of_generation(chat.im_start));
  EXPECT_FALSE(tokenizer.is_end_of_generation(-5));

  TokenizerVocab with_eot = byte_vocab();
  with_eot.eot_id = 'x';  // an explicit eot id counts whatever its text
  EXPECT_EQ(Tokenizer(with_eot).end_of_generation_ids(), Ids{'x'});
}

TEST(Tokenizer, InvalidUtf8InputNamesTheOffset) {
  const Tokenizer tokenizer(byte_vocab());
  try {
    tokenizer.encode("hello \xc3(");
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(),
                 "Tokenizer::encode: invalid UTF-8 at byte offset 6: byte 0x28 at offset 7 cannot continue the "
                 "sequence starting with 0xc3");
  }
  EXPECT_THROW(tokenizer.encode("\xff", false), std::runtime_error);
  EXPECT_THROW(tokenizer.encode("ok\xf0\x9f\x98"), std::runtime_error);
  EXPECT_NO_THROW(tokenizer.encode(std::string("nul\0inside", 10)));
}

TEST(TokenizerValidation, RejectsBadVocabularies) {
  TokenizerVocab vocab = byte_vocab();
  vocab.model = "bert";
  EXPECT_EQ(error_of(vocab),
            "tokenizer: unsupported tokenizer.ggml.model \"bert\"; supported: \"gpt2\" (byte-level BPE) and "
            "\"llama\" (SentencePiece BPE)");

  vocab = byte_vocab("llama-bpe");
  EXPECT_EQ(error_of(vocab),
            "unsupported tokenizer.ggml.pre \"llama-bpe\": supported pre-tokenizers are \"smollm\", \"gpt-4o\", "
            "\"qwen2\", \"gpt2\" and \"default\"");

  vocab = byte_vocab();
  vocab.token_types.pop_back();
  EXPECT_EQ(error_of(vocab), "tokenizer: 255 token types for 256 tokens");

  vocab = byte_vocab();
  vocab.token_types[7] = static_cast<TokenType>(9);
  EXPECT_EQ(error_of(vocab), "tokenizer: token 7 has unknown token type 9 (known: 0..6)");

  vocab = byte_vocab();
  vocab.eos_id = 256;
  EXPECT_EQ(error_of(vocab), "tokenizer: eos_id 256 is out of range for a vocabulary of 256 tokens");

  vocab = byte_vocab();
  vocab.add_bos = true;
  EXPECT_EQ(error_of(vocab), "tokenizer: add_bos is set but the vocabulary has no bos_id");

  vocab = byte_vocab();
  vocab.merges = {"ab"};
  EXPECT_EQ(error_of(vocab), "tokenizer: merge 0 \"ab\" is not of the form \"left right\"");
  vocab.merges = {"a  b"};
  EXPECT_EQ(error_of(vocab), "tokenizer: merge 0 \"a  b\" is not of the form \"left right\"");
  vocab.merges = {"a b"};
  EXPECT_EQ(error_of(vocab), "tokenizer: merge 0 \"a b\": its result \"ab\" is not a token");
  vocab.merges = {"zz b"};
  EXPECT_EQ(error_of(vocab), "tokenizer: merge 0 \"zz b\": its left part \"zz\" is not a token");

  vocab = byte_vocab();
  vocab.tokens[65] = "\xff";
  EXPECT_EQ(error_of(vocab),
            "tokenizer: text of token 65: invalid UTF-8 at byte offset 0: byte 0xff cannot start a UTF-8 character");

  vocab = TokenizerVocab{};
  vocab.model = "gpt2";
  vocab.pre = "gpt2";
  EXPECT_EQ(error_of(vocab), "tokenizer: the vocabulary has no tokens");
  vocab.tokens = {"hello", "world"};
  EXPECT_EQ(error_of(vocab),
            "tokenizer: no token spells a single byte (\"a\", \"\xC4\xA0\" for space, ...): this is not a "
            "byte-level BPE vocabulary");
}

}  // namespace
}  // namespace phirun
