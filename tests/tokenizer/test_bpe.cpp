// BPE merging on tiny hand-built vocabularies: rank order, leftmost ties, word boundaries,
// bytes missing from the vocabulary, and a pathological long word.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/tokenizer/tiny_vocab.h"
#include "tokenizer/tokenizer.h"

namespace phirun {
namespace {

using Ids = std::vector<int32_t>;
using testing::add_merge;
using testing::byte_vocab;

TEST(Bpe, MergesByRankIntoWholeWords) {
  TokenizerVocab vocab = byte_vocab();
  const int32_t he = add_merge(vocab, "h", "e");
  const int32_t ll = add_merge(vocab, "l", "l");
  const int32_t hell = add_merge(vocab, "he", "ll");
  const int32_t hello = add_merge(vocab, "hell", "o");
  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("hello"), Ids{hello});
  EXPECT_EQ(tokenizer.encode("hell"), Ids{hell});
  EXPECT_EQ(tokenizer.encode("help"), (Ids{he, 'l', 'p'}));
  EXPECT_EQ(tokenizer.encode("llama"), (Ids{ll, 'a', 'm', 'a'}));
  EXPECT_EQ(tokenizer.encode(""), Ids{});
}

TEST(Bpe, LowerRankWinsWhereverItIs) {
  TokenizerVocab first_bc = byte_vocab();
  const int32_t bc = add_merge(first_bc, "b", "c");
  add_merge(first_bc, "a", "b");
  EXPECT_EQ(Tokenizer(first_bc).encode("abc"), (Ids{'a', bc}));

  TokenizerVocab first_ab = byte_vocab();
  const int32_t ab = add_merge(first_ab, "a", "b");
  add_merge(first_ab, "b", "c");
  EXPECT_EQ(Tokenizer(first_ab).encode("abc"), (Ids{ab, 'c'}));
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  TokenizerVocab vocab = byte_vocab();
  const int32_t aa = add_merge(vocab, "a", "a");
  const int32_t aaaa = add_merge(vocab, "aa", "aa");
  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("aaa"), (Ids{aa, 'a'}));
  EXPECT_EQ(tokenizer.encode("aaaa"), Ids{aaaa});
  EXPECT_EQ(tokenizer.encode("aaaaa"), (Ids{aaaa, 'a'}));
  EXPECT_EQ(tokenizer.encode("aaaaaa"), (Ids{aaaa, aa}));
}

TEST(Bpe, NeverMergesAcrossWords) {
  TokenizerVocab vocab = byte_vocab();
  add_merge(vocab, "a", " ");
  const int32_t space_b = add_merge(vocab, " ", "b");
  const Tokenizer tokenizer(vocab);
  // Words "a" and " b": the merge "a" + " " would cross the boundary.
  EXPECT_EQ(tokenizer.encode("a b"), (Ids{'a', space_b}));
  EXPECT_EQ(tokenizer.token_text(space_b),
            "\xc4\xa0"
            "b");  // "Ġb"
  EXPECT_EQ(tokenizer.token_bytes(space_b), " b");
}

TEST(Bpe, LaterMergeRankOfADuplicatePairIsIgnored) {
  TokenizerVocab vocab = byte_vocab();
  const int32_t xy = testing::add_token(vocab, "xy");
  const int32_t yz = testing::add_token(vocab, "yz");
  vocab.merges = {"y z", "x y", "y z"};  // the duplicate "y z" keeps rank 0
  EXPECT_EQ(Tokenizer(vocab).encode("xyz"), (Ids{'x', yz}));
  vocab.merges = {"x y", "y z", "x y"};
  EXPECT_EQ(Tokenizer(vocab).encode("xyz"), (Ids{xy, 'z'}));
}

TEST(Bpe, BytesWithoutATokenAreDroppedBeforeMerging) {
  // Like SmolLM2's vocabulary, which has no token for 0x1d: Hugging Face drops the byte and
  // the characters around it can then merge.
  TokenizerVocab vocab;
  vocab.model = "gpt2";
  vocab.pre = "gpt2";
  for (int byte = 0; byte < 256; ++byte) {
    if (byte != 0x1d) vocab.tokens.push_back(byte_level_encode(std::string(1, char(byte))));
  }
  const int32_t bang_bang = testing::add_token(vocab, "!!");
  vocab.token_types.clear();
  vocab.merges = {"! !"};
  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("!\x1d!"), Ids{bang_bang});
  EXPECT_EQ(tokenizer.encode("\x1d"), Ids{});
  EXPECT_EQ(tokenizer.encode("a\x1d"), Ids{'a' - 1});  // ids after 0x1d shift down by one
}

TEST(Bpe, PathologicalLongWordIsFast) {
  TokenizerVocab vocab = byte_vocab();
  add_merge(vocab, "a", "a");
  add_merge(vocab, "aa", "aa");
  const int32_t a8 = add_merge(vocab, "aaaa", "aaaa");
  const Tokenizer tokenizer(vocab);
  // One word of 2^20 letters: a quadratic merge loop would take minutes here.
  const std::vector<int32_t> ids = tokenizer.encode(std::string(1 << 20, 'a'));
  ASSERT_EQ(ids.size(), size_t(1) << 17);
  for (int32_t id : ids) ASSERT_EQ(id, a8);
}

TEST(Bpe, MultiByteCharactersStartAsBytes) {
  TokenizerVocab vocab = byte_vocab();
  const int32_t e_acute = add_merge(vocab, "\xc3", "\xa9");  // é
  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("caf\xc3\xa9"), (Ids{'c', 'a', 'f', e_acute}));
  EXPECT_EQ(tokenizer.encode("\xe4\xb8\x96"), (Ids{0xe4, 0xb8, 0x96}));  // 世 without merges: its bytes
  EXPECT_EQ(tokenizer.decode(Ids{0xe4, 0xb8, 0x96}), "\xe4\xb8\x96");
  EXPECT_EQ(tokenizer.token_bytes(e_acute), "\xc3\xa9");
}

}  // namespace
}  // namespace phirun
