// The GPT-2 pattern as a scanner. Every character is a letter (\p{L}), a number (\p{N}), white
// space (\s) or other, so one of the pattern's alternatives always matches at the current
// position; the scanner picks the one the regex engine would, in the order the pattern lists them.
#include "tokenizer/pre_tokenizer.h"

#include <cstdint>
#include <stdexcept>

#include "tokenizer/pre_tokenizer_o200k.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

struct CharInfo {
  uint32_t offset;  // byte offset of the character in the text
  CharClass kind;
};

// The characters of the text with their classes, plus a sentinel holding the text's size so
// that chars[k + 1].offset is always the end of character k.
std::vector<CharInfo> classify_text(std::string_view text) {
  if (text.size() > UINT32_MAX) {
    throw std::runtime_error("split_words: text of " + std::to_string(text.size()) +
                             " bytes is too long for the pre-tokenizer (limit 4 GiB)");
  }
  std::vector<CharInfo> chars;
  chars.reserve(text.size() + 1);
  size_t offset = 0;
  while (offset < text.size()) {
    const Utf8Char step = decode_utf8_char(text, offset);
    if (step.status != Utf8Char::Status::Valid) {
      throw std::runtime_error("split_words: invalid UTF-8 at byte offset " + std::to_string(offset) +
                               " (the tokenizer validates text before this point)");
    }
    chars.push_back({static_cast<uint32_t>(offset), char_class(step.code_point)});
    offset += step.length;
  }
  chars.push_back({static_cast<uint32_t>(text.size()), CharClass::Other});
  return chars;
}

class Gpt2Scanner {
 public:
  Gpt2Scanner(std::string_view text, const std::vector<CharInfo>& chars) : text_(text), chars_(chars) {}

  // The end (exclusive character index) of the pattern's match at `begin`, which lies within
  // [begin, end): the regex never looks past `end`, so (?!\S) treats `end` as end of input.
  size_t match_end(size_t begin, size_t end) const {
    // 's|'t|'re|'ve|'m|'ll|'d (lowercase only, as in GPT-2's pattern)
    if (first_byte(begin) == '\'' && begin + 1 < end) {
      const char c1 = first_byte(begin + 1);
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return begin + 2;
      if (begin + 2 < end) {
        const char c2 = first_byte(begin + 2);
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return begin + 3;
      }
    }
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional literal space, then a run of one
    // class. Only the ASCII space may lead a word; a tab or U+00A0 stands alone.
    size_t run_begin = begin;
    if (first_byte(begin) == ' ' && begin + 1 < end && class_of(begin + 1) != CharClass::WhiteSpace) {
      run_begin = begin + 1;
    }
    const CharClass run_class = class_of(run_begin);
    if (run_class != CharClass::WhiteSpace) {
      size_t k = run_begin + 1;
      while (k < end && class_of(k) == run_class) ++k;
      return k;
    }
    // '\s+(?!\S)': a whitespace run that is not followed by a non-space, so before a word the
    // run gives back its last character (which then prefixes the word when it is a space).
    size_t k = begin + 1;
    while (k < end && class_of(k) == CharClass::WhiteSpace) ++k;
    if (k == end) return k;
    if (k - begin >= 2) return k - 1;
    // '\s+': a single whitespace character right before a non-space.
    return k;
  }

  std::string_view slice(size_t begin, size_t end) const {
    return text_.substr(chars_[begin].offset, chars_[end].offset - chars_[begin].offset);
  }

 private:
  char first_byte(size_t index) const { return text_[chars_[index].offset]; }
  CharClass class_of(size_t index) const { return chars_[index].kind; }

  std::string_view text_;
  const std::vector<CharInfo>& chars_;
};

void split_gpt2_range(const Gpt2Scanner& scanner, size_t begin, size_t end, std::vector<std::string_view>& words) {
  while (begin < end) {
    const size_t match_end = scanner.match_end(begin, end);
    words.push_back(scanner.slice(begin, match_end));
    begin = match_end;
  }
}

}  // namespace

CharClass char_class(char32_t code_point) {
  if (code_point < 0x80) {  // ASCII without the table lookups
    if ((code_point | 0x20) >= 'a' && (code_point | 0x20) <= 'z') return CharClass::Letter;
    if (code_point >= '0' && code_point <= '9') return CharClass::Number;
    if (code_point == ' ' || (code_point >= 0x09 && code_point <= 0x0D)) return CharClass::WhiteSpace;
    return CharClass::Other;
  }
  if (is_white_space(code_point)) return CharClass::WhiteSpace;
  const UnicodeCategory category = unicode_category(code_point);
  if (category <= UnicodeCategory::Lo) return CharClass::Letter;
  if (category >= UnicodeCategory::Nd && category <= UnicodeCategory::No) return CharClass::Number;
  return CharClass::Other;
}

PreTokenizer pre_tokenizer_from_name(std::string_view name) {
  if (name == "smollm") return PreTokenizer::SmolLM;
  if (name == "gpt-4o") return PreTokenizer::Gpt4o;
  if (name == "qwen2") return PreTokenizer::Qwen2;
  if (name == "gpt2" || name == "default") return PreTokenizer::Gpt2;
  throw std::runtime_error(
      "unsupported tokenizer.ggml.pre \"" + std::string(name) +
      "\": supported pre-tokenizers are \"smollm\", \"gpt-4o\", \"qwen2\", \"gpt2\" and \"default\"");
}

void split_words(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& words) {
  if (text.empty()) return;
  if (kind == PreTokenizer::Gpt4o) {
    split_o200k_words(text, words);
    return;
  }
  if (kind == PreTokenizer::Qwen2) {
    split_qwen2_words(text, words);
    return;
  }
  const std::vector<CharInfo> chars = classify_text(text);
  const size_t char_count = chars.size() - 1;
  const Gpt2Scanner scanner(text, chars);
  if (kind == PreTokenizer::Gpt2) {
    split_gpt2_range(scanner, 0, char_count, words);
    return;
  }
  // SmolLM: each number character is a word of its own; the stretches between them are split by
  // the GPT-2 pattern independently, so a space before a digit cannot join it (" 1" -> " ", "1").
  size_t stretch_begin = 0;
  for (size_t i = 0; i < char_count; ++i) {
    if (chars[i].kind != CharClass::Number) continue;
    split_gpt2_range(scanner, stretch_begin, i, words);
    words.push_back(scanner.slice(i, i + 1));
    stretch_begin = i + 1;
  }
  split_gpt2_range(scanner, stretch_begin, char_count, words);
}

}  // namespace phirun
