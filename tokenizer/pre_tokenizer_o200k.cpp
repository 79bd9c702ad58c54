// The o200k pattern, and Qwen2's, as scanners, no regex library. The o200k pattern's alternatives, in order:
//   A1 [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   A2 [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   A3 \p{N}{1,3}    A4  ?[^\s\p{L}\p{N}]+[\r\n/]*    A5 \s*[\r\n]+    A6 \s+(?!\S)    A7 \s+
// Qwen2's (Hugging Face Split regex; llama.cpp's tokenizer.ggml.pre "qwen2"), in order:
//   B1 (?i:'s|'t|'re|'ve|'m|'ll|'d)    B2 [^\r\n\p{L}\p{N}]?\p{L}+    B3 \p{N}
//   B4  ?[^\s\p{L}\p{N}]+[\r\n]*      B5-B7 as A5-A7
// Every character is matched by one of them, so matches tile the text; at each position the
// scanner returns the end the backtracking regex engine (Oniguruma, in Hugging Face) would find.
// "Upper" below is the class [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], "lower" [\p{Ll}\p{Lm}\p{Lo}\p{M}].
#include "tokenizer/pre_tokenizer_o200k.h"

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

enum CharFlag : uint16_t {
  kLetter = 1 << 0,      // \p{L}
  kNumber = 1 << 1,      // \p{N}
  kWhiteSpace = 1 << 2,  // \s (the White_Space property)
  kLineBreak = 1 << 3,   // \r or \n
  kUpper = 1 << 4,       // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
  kLower = 1 << 5,       // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
  kPrefix = 1 << 6,      // [^\r\n\p{L}\p{N}]
  kOther = 1 << 7,       // [^\s\p{L}\p{N}]
};

struct CharInfo {
  uint32_t offset;  // byte offset in the text
  char32_t code_point;
  uint16_t flags;
};

uint16_t flags_of(char32_t code_point) {
  uint16_t flags = 0;
  const UnicodeCategory category = unicode_category(code_point);
  const bool letter = category <= UnicodeCategory::Lo;
  const bool mark = category >= UnicodeCategory::Mn && category <= UnicodeCategory::Me;
  const bool number = category >= UnicodeCategory::Nd && category <= UnicodeCategory::No;
  const bool white_space = is_white_space(code_point);
  const bool line_break = code_point == '\r' || code_point == '\n';
  if (letter) flags |= kLetter;
  if (number) flags |= kNumber;
  if (white_space) flags |= kWhiteSpace;
  if (line_break) flags |= kLineBreak;
  const bool lower_only = category == UnicodeCategory::Ll;
  const bool upper_only = category == UnicodeCategory::Lu || category == UnicodeCategory::Lt;
  const bool both = category == UnicodeCategory::Lm || category == UnicodeCategory::Lo || mark;
  if (upper_only || both) flags |= kUpper;
  if (lower_only || both) flags |= kLower;
  if (!line_break && !letter && !number) flags |= kPrefix;
  if (!white_space && !letter && !number) flags |= kOther;
  return flags;
}

uint16_t cached_flags(char32_t code_point) {
  static const auto ascii = [] {
    std::array<uint16_t, 128> table{};
    for (char32_t c = 0; c < 128; ++c) table[c] = flags_of(c);
    return table;
  }();
  return code_point < 128 ? ascii[code_point] : flags_of(code_point);
}

// The letter of a contraction under (?i): ASCII case, plus U+017F LATIN SMALL LETTER LONG S,
// whose case folding is "s" (Oniguruma matches "'ſ" as 's; checked against Hugging Face).
char32_t folded(char32_t code_point) {
  if (code_point >= 'A' && code_point <= 'Z') return code_point + ('a' - 'A');
  if (code_point == 0x017F) return 's';
  return code_point;
}

class O200kScanner {
 public:
  explicit O200kScanner(std::vector<CharInfo> chars) : chars_(std::move(chars)), count_(chars_.size() - 1) {}

  size_t count() const { return count_; }
  uint32_t offset(size_t index) const { return chars_[index].offset; }

  size_t match_end(size_t p) const {
    if (const std::optional<size_t> end = letters(p)) return *end;
    if (has(p, kNumber)) {  // A3
      size_t k = p + 1;
      while (k < count_ && k < p + 3 && has(k, kNumber)) ++k;
      return k;
    }
    // A4: an optional space, then other characters, then line breaks (a '/' is already "other").
    if (const std::optional<size_t> end = others(p, true)) return *end;
    return white_space_end(p);
  }

  size_t qwen2_match_end(size_t p) const {
    if (chars_[p].code_point == '\'') {  // B1
      if (const size_t end = contraction_end(p); end != p) return end;
    }
    // B2: the prefix character only where a letter follows it (else the regex backtracks past it).
    const size_t first_letter = has(p, kPrefix) && p + 1 < count_ && has(p + 1, kLetter) ? p + 1 : p;
    if (has(first_letter, kLetter)) {
      size_t k = first_letter + 1;
      while (k < count_ && has(k, kLetter)) ++k;
      return k;
    }
    if (has(p, kNumber)) return p + 1;  // B3: one digit
    if (const std::optional<size_t> end = others(p, false)) return *end;
    return white_space_end(p);
  }

 private:
  // A4 / B4: an optional space, then other characters, then line breaks (and '/' for o200k).
  std::optional<size_t> others(size_t p, bool slash_too) const {
    const size_t q = (chars_[p].code_point == ' ' && p + 1 < count_ && has(p + 1, kOther)) ? p + 1 : p;
    if (!has(q, kOther)) return std::nullopt;
    size_t k = q + 1;
    while (k < count_ && has(k, kOther)) ++k;
    while (k < count_ && (has(k, kLineBreak) || (slash_too && chars_[k].code_point == '/'))) ++k;
    return k;
  }

  // A5-A7: white space is all that is left at p.
  size_t white_space_end(size_t p) const {
    size_t run_end = p + 1;
    while (run_end < count_ && has(run_end, kWhiteSpace)) ++run_end;
    for (size_t j = run_end; j > p; --j) {  // A5: up to the last line break of the run
      if (has(j - 1, kLineBreak)) return j;
    }
    if (run_end == count_) return run_end;     // A6 at the end of the text
    if (run_end - p >= 2) return run_end - 1;  // A6: leave the last one to lead the next word
    return run_end;                            // A7
  }

  bool has(size_t index, uint16_t flag) const { return (chars_[index].flags & flag) != 0; }

  // A1, then A2, each first with the optional prefix character taken, then without it.
  std::optional<size_t> letters(size_t p) const {
    const bool prefix = has(p, kPrefix);
    if (prefix) {
      if (const auto end = upper_star_lower_plus(p + 1)) return end;
    }
    if (const auto end = upper_star_lower_plus(p)) return end;
    if (prefix) {
      if (const auto end = upper_plus_lower_star(p + 1)) return end;
    }
    return upper_plus_lower_star(p);
  }

  // [upper]*[lower]+ at q, then a contraction. Upper* is greedy: it takes the whole upper run and
  // gives characters back until lower+ can start, which it can only at a character in both classes.
  std::optional<size_t> upper_star_lower_plus(size_t q) const {
    if (q >= count_) return std::nullopt;
    size_t k = q;
    while (k < count_ && has(k, kUpper)) ++k;
    if (k < count_ && has(k, kLower)) {
      size_t end = k + 1;
      while (end < count_ && has(end, kLower)) ++end;
      return contraction_end(end);
    }
    // Backtrack: the last character of the run that is also lower ends the match (the ones after
    // it are upper only, so lower+ stops right there).
    for (size_t j = k; j > q; --j) {
      if (has(j - 1, kLower)) return contraction_end(j);
    }
    return std::nullopt;
  }

  // [upper]+[lower]* at q, then a contraction.
  std::optional<size_t> upper_plus_lower_star(size_t q) const {
    if (q >= count_ || !has(q, kUpper)) return std::nullopt;
    size_t end = q + 1;
    while (end < count_ && has(end, kUpper)) ++end;
    while (end < count_ && has(end, kLower)) ++end;
    return contraction_end(end);
  }

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)? after a word ending at `end`.
  size_t contraction_end(size_t end) const {
    if (end + 1 >= count_ || chars_[end].code_point != '\'') return end;
    const char32_t first = folded(chars_[end + 1].code_point);
    if (first == 's' || first == 't' || first == 'm' || first == 'd') return end + 2;
    if (end + 2 < count_) {
      const char32_t second = folded(chars_[end + 2].code_point);
      if ((first == 'r' || first == 'v') && second == 'e') return end + 3;
      if (first == 'l' && second == 'l') return end + 3;
    }
    return end;
  }

  std::vector<CharInfo> chars_;  // plus a sentinel holding the text's size
  size_t count_;
};

}  // namespace

namespace {

template <class MatchEnd>
void split_words_by(std::string_view text, std::vector<std::string_view>& words, MatchEnd match_end) {
  if (text.empty()) return;
  if (text.size() > UINT32_MAX) {
    throw std::runtime_error("split_words: text of " + std::to_string(text.size()) +
                             " bytes is too long for the pre-tokenizer (limit 4 GiB)");
  }
  std::vector<CharInfo> chars;
  chars.reserve(text.size() + 1);
  for (size_t offset = 0; offset < text.size();) {
    const Utf8Char step = decode_utf8_char(text, offset);
    if (step.status != Utf8Char::Status::Valid) {
      throw std::runtime_error("split_words: invalid UTF-8 at byte offset " + std::to_string(offset) +
                               " (the tokenizer validates text before this point)");
    }
    chars.push_back({static_cast<uint32_t>(offset), step.code_point, cached_flags(step.code_point)});
    offset += step.length;
  }
  chars.push_back({static_cast<uint32_t>(text.size()), 0, 0});

  const O200kScanner scanner(std::move(chars));
  for (size_t begin = 0; begin < scanner.count();) {
    const size_t end = match_end(scanner, begin);
    words.push_back(text.substr(scanner.offset(begin), scanner.offset(end) - scanner.offset(begin)));
    begin = end;
  }
}

}  // namespace

void split_o200k_words(std::string_view text, std::vector<std::string_view>& words) {
  split_words_by(text, words, [](const O200kScanner& scanner, size_t p) { return scanner.match_end(p); });
}

void split_qwen2_words(std::string_view text, std::vector<std::string_view>& words) {
  split_words_by(text, words, [](const O200kScanner& scanner, size_t p) { return scanner.qwen2_match_end(p); });
}

}  // namespace phirun
