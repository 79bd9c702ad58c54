// The streaming decoder on tokens that split multi-byte characters: nothing is emitted until a
// character is complete, bytes that can never complete become U+FFFD, and flush() ends the stream.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/tokenizer/tiny_vocab.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

const std::string kFffd = "\xef\xbf\xbd";

// Ids equal byte values in the byte vocabulary.
std::vector<std::string> push_all(StreamingDecoder& decoder, const std::vector<int32_t>& ids) {
  std::vector<std::string> outputs;
  for (int32_t id : ids) outputs.push_back(decoder.push(id));
  return outputs;
}

using Outputs = std::vector<std::string>;

TEST(StreamingDecoder, EmojiSplitIntoSingleBytes) {
  const Tokenizer tokenizer(testing::byte_vocab());
  StreamingDecoder decoder(tokenizer);
  // U+1F600 😀 = f0 9f 98 80, one byte token each.
  EXPECT_EQ(push_all(decoder, {0xf0, 0x9f, 0x98, 0x80, '!'}), (Outputs{"", "", "", "\xf0\x9f\x98\x80", "!"}));
  EXPECT_EQ(decoder.flush(), "");
}

TEST(StreamingDecoder, CharactersSplitAcrossMultiByteTokens) {
  TokenizerVocab vocab = testing::byte_vocab();
  const int32_t emoji_head = testing::add_token(vocab, byte_level_encode("a\xf0\x9f"));
  const int32_t emoji_tail = testing::add_token(vocab, byte_level_encode("\x98\x80\xc3"));
  const int32_t e_tail = testing::add_token(vocab, byte_level_encode("\xa9z"));
  const Tokenizer tokenizer(vocab);
  StreamingDecoder decoder(tokenizer);
  EXPECT_EQ(decoder.push(emoji_head), "a");
  EXPECT_EQ(decoder.pending_bytes(), 2u);
  EXPECT_EQ(decoder.push(emoji_tail), "\xf0\x9f\x98\x80");
  EXPECT_EQ(decoder.push(e_tail), "\xc3\xa9z");
  EXPECT_EQ(decoder.flush(), "");
}

TEST(StreamingDecoder, InvalidBytesBecomeReplacementCharactersAtOnce) {
  const Tokenizer tokenizer(testing::byte_vocab());
  StreamingDecoder decoder(tokenizer);
  EXPECT_EQ(decoder.push(0xff), kFffd);       // can never start a character
  EXPECT_EQ(decoder.push(0x80), kFffd);       // continuation without a lead
  EXPECT_EQ(decoder.push(0xe2), "");          // may still become a character...
  EXPECT_EQ(decoder.push('a'), kFffd + "a");  // ...but 'a' cannot continue it
  EXPECT_EQ(decoder.push(0xed), "");
  EXPECT_EQ(decoder.push(0xa0), kFffd + kFffd);  // ED A0 would be a surrogate: both bytes bad
  EXPECT_EQ(decoder.push(0xf0), "");
  EXPECT_EQ(decoder.push(0x9f), "");
  EXPECT_EQ(decoder.flush(), kFffd);  // an unfinished character at the end: one U+FFFD
  EXPECT_EQ(decoder.pending_bytes(), 0u);
  EXPECT_EQ(decoder.push('o'), "o");  // usable again after flush
}

TEST(StreamingDecoder, ControlTokensOnlyWhenAsked) {
  TokenizerVocab vocab = testing::byte_vocab();
  const int32_t im_end = testing::add_token(vocab, "<|im_end|>", TokenType::Control);
  const Tokenizer tokenizer(vocab);
  StreamingDecoder plain(tokenizer);
  EXPECT_EQ(push_all(plain, {'o', 'k', im_end}), (Outputs{"o", "k", ""}));
  StreamingDecoder with_special(tokenizer, true);
  EXPECT_EQ(push_all(with_special, {'o', 'k', im_end}), (Outputs{"o", "k", "<|im_end|>"}));
  EXPECT_THROW(plain.push(-1), std::runtime_error);
}

TEST(StreamingDecoder, AnySplitOfBytesGivesTheSameText) {
  // Byte strings (valid and not) cut into tokens at random points: every piece pushed out is
  // UTF-8, and all of them plus flush() equal repair_utf8 of the whole, as if decoded in one go.
  const std::string samples[] = {
      "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe4\xb8\x96\xe7\x95\x8c!",  // héllo 😀 世界!
      "\xc3\xa9\xc3",                                             // é, then a cut-off character
      "\xe2\x82\xac\xff\xe2\x82\x28\xf4\x8f\xbf\xbf\xf4\x90",     // €, bad bytes, U+10FFFF
      "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9",             // 👨 ZWJ 👩
  };
  std::mt19937 random(12345);
  for (const std::string& sample : samples) {
    for (int trial = 0; trial < 40; ++trial) {
      TokenizerVocab vocab = testing::byte_vocab();
      std::vector<int32_t> ids;
      for (size_t begin = 0; begin < sample.size();) {
        const size_t length = 1 + random() % 4;
        ids.push_back(testing::add_token(vocab, byte_level_encode(sample.substr(begin, length))));
        begin += length;
      }
      const Tokenizer tokenizer(vocab);
      StreamingDecoder decoder(tokenizer);
      std::string streamed;
      for (int32_t id : ids) {
        const std::string piece = decoder.push(id);
        EXPECT_EQ(repair_utf8(piece), piece);
        streamed += piece;
      }
      streamed += decoder.flush();
      EXPECT_EQ(streamed, repair_utf8(sample));
      EXPECT_EQ(tokenizer.decode(ids), sample);
    }
  }
}

}  // namespace
}  // namespace phirun
