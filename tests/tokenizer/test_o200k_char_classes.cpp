// The o200k pattern tells eight classes of characters apart (upper-only letters, lower-only,
// letters in both classes, marks, numbers, CR/LF, other white space, other). Every code point's
// class from our Unicode tables against the one Hugging Face's regex engine gives it
// (phi4_mini_char_classes.json), and the scanner itself on the fixture's five probe strings at
// every point where the class changes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

std::string o200k_class(char32_t code_point) {
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return "surrogate";
  if (code_point == '\r' || code_point == '\n') return "R";
  if (is_white_space(code_point)) return "S";
  switch (unicode_category(code_point)) {
    case UnicodeCategory::Lu:
    case UnicodeCategory::Lt:
      return "U";
    case UnicodeCategory::Ll:
      return "W";
    case UnicodeCategory::Lm:
    case UnicodeCategory::Lo:
      return "B";
    case UnicodeCategory::Mn:
    case UnicodeCategory::Mc:
    case UnicodeCategory::Me:
      return "M";
    case UnicodeCategory::Nd:
    case UnicodeCategory::Nl:
    case UnicodeCategory::No:
      return "N";
    default:
      return "O";
  }
}

// Word counts of "a"+c, c+"a", "!"+c, "!!"+c, c+"Aa" for each class (as the fixture script reads them).
std::vector<size_t> expected_signature(const std::string& char_class) {
  if (char_class == "U") return {2, 1, 1, 2, 1};
  if (char_class == "W") return {1, 1, 1, 2, 2};
  if (char_class == "B") return {1, 1, 1, 2, 1};
  if (char_class == "M") return {1, 1, 1, 1, 1};
  if (char_class == "N") return {2, 2, 2, 2, 2};
  if (char_class == "R") return {2, 2, 1, 1, 2};
  if (char_class == "S") return {2, 1, 2, 2, 1};
  return {2, 1, 1, 1, 1};
}

std::vector<size_t> scanner_signature(char32_t code_point) {
  std::string c;
  append_utf8(c, code_point);
  std::vector<size_t> counts;
  for (const std::string& probe : {"a" + c, c + "a", "!" + c, "!!" + c, c + "Aa"}) {
    std::vector<std::string_view> words;
    split_words(PreTokenizer::Gpt4o, probe, words);
    counts.push_back(words.size());
  }
  return counts;
}

TEST(O200kCharClasses, EveryCodePointMatchesHuggingFace) {
  std::ifstream file("tests/fixtures/tokenizer/phi4_mini_char_classes.json");
  ASSERT_TRUE(file) << "cannot open phi4_mini_char_classes.json (tests run from the repository root)";
  const nlohmann::json fixture = nlohmann::json::parse(file);
  const auto& runs = fixture.at("runs");
  ASSERT_GT(runs.size(), 1000u);
  int mismatches = 0;
  for (size_t run = 0; run < runs.size(); ++run) {
    const auto first = runs[run].at(0).get<char32_t>();
    const char32_t end = run + 1 < runs.size() ? runs[run + 1].at(0).get<char32_t>() : 0x110000;
    const auto expected = runs[run].at(1).get<std::string>();
    for (char32_t code_point = first; code_point < end; ++code_point) {
      const std::string ours = o200k_class(code_point);
      if (ours != expected && ++mismatches <= 10) {
        ADD_FAILURE() << "U+" << std::hex << static_cast<uint32_t>(code_point) << ": ours " << ours << ", Hugging Face "
                      << expected;
      }
    }
    if (expected != "surrogate") {
      EXPECT_EQ(scanner_signature(first), expected_signature(expected))
          << "U+" << std::hex << static_cast<uint32_t>(first) << " (" << expected << ")";
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace phirun
