// Pre-tokenizer splits checked by hand against GPT-2's pattern, SmolLM's digit split and the o200k
// pattern (each expectation was also confirmed with Hugging Face's pre_tokenize_str).
#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

std::vector<std::string> words_of(PreTokenizer kind, std::string_view text) {
  std::vector<std::string_view> views;
  split_words(kind, text, views);
  return {views.begin(), views.end()};
}

using Words = std::vector<std::string>;

TEST(PreTokenizerGpt2, LettersNumbersAndPunctuation) {
  const auto kind = PreTokenizer::Gpt2;
  EXPECT_EQ(words_of(kind, ""), Words{});
  EXPECT_EQ(words_of(kind, "Hello, world!"), (Words{"Hello", ",", " world", "!"}));
  EXPECT_EQ(words_of(kind, "a 123 b45"), (Words{"a", " 123", " b", "45"}));
  EXPECT_EQ(words_of(kind, "x  !!?? y"), (Words{"x", " ", " !!??", " y"}));
  EXPECT_EQ(words_of(kind, "caf\xc3\xa9 \xe4\xb8\x96\xe7\x95\x8c"),
            (Words{"caf\xc3\xa9", " \xe4\xb8\x96\xe7\x95\x8c"}));  // café 世界
  // A combining mark is neither letter nor number: it breaks the word.
  EXPECT_EQ(words_of(kind, "cafe\xcc\x81 ok"), (Words{"cafe", "\xcc\x81", " ok"}));
}

TEST(PreTokenizerGpt2, Contractions) {
  const auto kind = PreTokenizer::Gpt2;
  EXPECT_EQ(words_of(kind, "I'm you'll they're"), (Words{"I", "'m", " you", "'ll", " they", "'re"}));
  EXPECT_EQ(words_of(kind, "x'sa"), (Words{"x", "'s", "a"}));
  // Uppercase contractions are not in the pattern: the apostrophe goes with punctuation.
  EXPECT_EQ(words_of(kind, "'RE a'LL"), (Words{"'", "RE", " a", "'", "LL"}));
  // A punctuation run swallows the apostrophe before the contraction alternative gets a chance.
  EXPECT_EQ(words_of(kind, "!'s ''s"), (Words{"!'", "s", " ''", "s"}));
  EXPECT_EQ(words_of(kind, "'"), (Words{"'"}));
}

TEST(PreTokenizerGpt2, WhiteSpaceRuns) {
  const auto kind = PreTokenizer::Gpt2;
  EXPECT_EQ(words_of(kind, " "), (Words{" "}));
  EXPECT_EQ(words_of(kind, "   "), (Words{"   "}));
  // Before a word the run gives its last space to the word.
  EXPECT_EQ(words_of(kind, "a  b"), (Words{"a", " ", " b"}));
  EXPECT_EQ(words_of(kind, "a     b"), (Words{"a", "    ", " b"}));
  // Only a literal space may lead a word; a tab or newline before a word stands alone.
  EXPECT_EQ(words_of(kind, "a \tb"), (Words{"a", " ", "\t", "b"}));
  EXPECT_EQ(words_of(kind, "a\n\nb"), (Words{"a", "\n", "\n", "b"}));
  EXPECT_EQ(words_of(kind, "a\n\n"), (Words{"a", "\n\n"}));
  EXPECT_EQ(words_of(kind, "  \n  x"), (Words{"  \n ", " x"}));
  EXPECT_EQ(words_of(kind, "end   "), (Words{"end", "   "}));
  // U+00A0 and U+3000 are \s but not the literal space.
  EXPECT_EQ(words_of(kind,
                     "a\xc2\xa0"
                     "b"),
            (Words{"a", "\xc2\xa0", "b"}));
  EXPECT_EQ(words_of(kind,
                     "a \xe3\x80\x80"
                     "b"),
            (Words{"a", " ", "\xe3\x80\x80", "b"}));
  // U+001D is a control character, not white space, for Unicode and Oniguruma.
  EXPECT_EQ(words_of(kind, "a\x1d b"), (Words{"a", "\x1d", " b"}));
}

TEST(PreTokenizerSmolLM, IsolatesEveryNumberCharacter) {
  const auto kind = PreTokenizer::SmolLM;
  EXPECT_EQ(words_of(kind, "a 123"), (Words{"a", " ", "1", "2", "3"}));
  EXPECT_EQ(words_of(kind, "v1.25x"), (Words{"v", "1", ".", "2", "5", "x"}));
  // "½" (No) and "²" (No) and "Ⅳ" (Nl) count as digits too.
  EXPECT_EQ(words_of(kind, " \xc2\xbd"), (Words{" ", "\xc2\xbd"}));
  EXPECT_EQ(words_of(kind, "x\xc2\xb2"), (Words{"x", "\xc2\xb2"}));
  EXPECT_EQ(words_of(kind, "\xe2\x85\xa3 x"), (Words{"\xe2\x85\xa3", " x"}));
  // The stretch before a digit ends there, so its trailing spaces stay one word.
  EXPECT_EQ(words_of(kind, "a  1"), (Words{"a", "  ", "1"}));
  EXPECT_EQ(words_of(kind, "a  1 b"), (Words{"a", "  ", "1", " b"}));
  // Without digits it is GPT-2's pattern.
  EXPECT_EQ(words_of(kind, "a  b"), (Words{"a", " ", " b"}));
}

TEST(PreTokenizerO200k, LettersCaseAndContractions) {
  const auto kind = PreTokenizer::Gpt4o;
  EXPECT_EQ(words_of(kind, "Hello, world!"), (Words{"Hello", ",", " world", "!"}));
  // An upper run followed by lower letters keeps them; a lower run ends at the next upper letter.
  EXPECT_EQ(words_of(kind, "HelloWORLDfoo getHTTPResponse"), (Words{"Hello", "WORLDfoo", " get", "HTTPResponse"}));
  // Contractions in any case, and U+017F (long s) folds to 's' under (?i).
  EXPECT_EQ(words_of(kind, "I'M you'Re x'\u017f don't"), (Words{"I'M", " you'Re", " x'\u017f", " don't"}));
  // One character that is neither letter, number, CR nor LF may lead a word.
  EXPECT_EQ(words_of(kind, " !hello (x) \"q\""), (Words{" !", "hello", " (", "x", ")", " \"", "q", "\""}));
  // 中 (Lo) is in both letter classes: the upper-star run gives back up to the last of them.
  EXPECT_EQ(words_of(kind, "\u4e2dA\u4e2dA!"), (Words{"\u4e2dA\u4e2d", "A", "!"}));
  // Marks belong to both letter classes but are not \p{L}: they join words, or punctuation runs.
  EXPECT_EQ(words_of(kind, "cafe\u0301 \u0301!! !!\u0301"), (Words{"cafe\u0301", " \u0301", "!!", " !!\u0301"}));
}

TEST(PreTokenizerO200k, NumbersWhiteSpaceAndLineBreaks) {
  const auto kind = PreTokenizer::Gpt4o;
  EXPECT_EQ(words_of(kind, "12345 1,000"), (Words{"123", "45", " ", "1", ",", "000"}));
  EXPECT_EQ(words_of(kind, "a\n\n b  \n c"), (Words{"a", "\n\n", " b", "  \n", " c"}));
  EXPECT_EQ(words_of(kind, "foo.\r\n//x /y/\n"), (Words{"foo", ".\r\n//", "x", " /", "y", "/\n"}));
  EXPECT_EQ(words_of(kind, "x   \ty"), (Words{"x", "   ", "\ty"}));
  EXPECT_EQ(words_of(kind, "end  "), (Words{"end", "  "}));
}

TEST(PreTokenizerO200k, WordsTileAnyText) {
  // Random text over characters of every class the pattern distinguishes: the words are never
  // empty and put back together give the text.
  const char32_t pool[] = {'a',    'Z',    ' ',    '\n',   '\r',    '\t',   '\'',   's',
                           'L',    '7',    '/',    '!',    0x00A0,  0x0301, 0x01C5, 0x02B0,
                           0x4E2D, 0x0663, 0x3000, 0x017F, 0x1F600, 0x2028, 0x0085, 0xFFFD};
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 24);
    for (int i = 0; i < length; ++i) append_utf8(text, pool[random() % std::size(pool)]);
    std::vector<std::string_view> words;
    split_words(PreTokenizer::Gpt4o, text, words);
    std::string joined;
    for (std::string_view word : words) {
      ASSERT_FALSE(word.empty()) << text;
      joined += word;
    }
    ASSERT_EQ(joined, text);
  }
}

// Qwen2's pattern by hand (Hugging Face agrees on these; the oracle tests cover the rest): one digit
// per word, a contraction on its own, a punctuation or space prefix on a letter run, no '/' after
// punctuation (o200k takes it), a mark is not a letter (it prefixes the next letter run).
TEST(PreTokenizer, Qwen2Pattern) {
  auto words = [](std::string_view text) {
    std::vector<std::string_view> out;
    split_words(PreTokenizer::Qwen2, text, out);
    return std::vector<std::string>(out.begin(), out.end());
  };
  using W = std::vector<std::string>;
  EXPECT_EQ(words("I'm 2024 ok"), (W{"I", "'m", " ", "2", "0", "2", "4", " ok"}));
  EXPECT_EQ(words("don'T"), (W{"don", "'T"}));
  EXPECT_EQ(words("'sun"), (W{"'s", "un"}));
  EXPECT_EQ(words("(hello)"), (W{"(hello", ")"}));
  EXPECT_EQ(words("a  b\n\n  c "), (W{"a", " ", " b", "\n\n", " ", " c", " "}));
  EXPECT_EQ(words("x;\n/y"), (W{"x", ";\n", "/y"}));
  EXPECT_EQ(words("e\xcc\x81t"), (W{"e", "\xcc\x81t"}));  // U+0301 COMBINING ACUTE: a prefix, not a letter
}

TEST(PreTokenizer, NamesFromGguf) {
  EXPECT_EQ(pre_tokenizer_from_name("smollm"), PreTokenizer::SmolLM);
  EXPECT_EQ(pre_tokenizer_from_name("gpt2"), PreTokenizer::Gpt2);
  EXPECT_EQ(pre_tokenizer_from_name("default"), PreTokenizer::Gpt2);
  EXPECT_EQ(pre_tokenizer_from_name("gpt-4o"), PreTokenizer::Gpt4o);
  EXPECT_EQ(pre_tokenizer_from_name("qwen2"), PreTokenizer::Qwen2);
  try {
    pre_tokenizer_from_name("llama-bpe");
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(),
                 "unsupported tokenizer.ggml.pre \"llama-bpe\": supported pre-tokenizers are \"smollm\", "
                 "\"gpt-4o\", \"qwen2\", \"gpt2\" and \"default\"");
  }
}

TEST(PreTokenizer, WordsCoverTheTextExactly) {
  const std::string text = "  Mixed 12 text,\twith\r\n  'll 'S \xf0\x9f\x98\x80\xf0\x9f\x98\x80 and \xc2\xbd!\n\n";
  for (PreTokenizer kind : {PreTokenizer::Gpt2, PreTokenizer::SmolLM}) {
    std::string joined;
    for (const std::string& word : words_of(kind, text)) {
      EXPECT_FALSE(word.empty());
      joined += word;
    }
    EXPECT_EQ(joined, text);
  }
}

}  // namespace
}  // namespace phirun
