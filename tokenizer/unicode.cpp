// Lookups over the generated Unicode tables: binary search on the category runs, with a
// table for ASCII in front because nearly all text the tokenizer sees is ASCII.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

#include "tokenizer/unicode_tables.h"

namespace phirun {
namespace {

constexpr uint32_t kCategoryBits = 5;
constexpr uint32_t kCategoryMask = (1u << kCategoryBits) - 1;
constexpr char32_t kMaxCodePoint = 0x10FFFF;

UnicodeCategory category_from_runs(char32_t code_point) {
  if (code_point > kMaxCodePoint) return UnicodeCategory::Cn;
  const uint32_t* begin = unicode_tables::kCategoryRuns;
  const uint32_t* end = begin + unicode_tables::kCategoryRunCount;
  // The last run starting at or before code_point: every entry with a smaller first code point
  // compares below the key (code_point << 5 | mask), every larger one above.
  const uint32_t key = (static_cast<uint32_t>(code_point) << kCategoryBits) | kCategoryMask;
  const uint32_t* after = std::upper_bound(begin, end, key);
  return static_cast<UnicodeCategory>(*(after - 1) & kCategoryMask);
}

const std::array<UnicodeCategory, 128>& ascii_categories() {
  static const std::array<UnicodeCategory, 128> table = [] {
    std::array<UnicodeCategory, 128> result{};
    for (char32_t c = 0; c < 128; ++c) result[c] = category_from_runs(c);
    return result;
  }();
  return table;
}

}  // namespace

UnicodeCategory unicode_category(char32_t code_point) {
  if (code_point < 128) return ascii_categories()[code_point];
  return category_from_runs(code_point);
}

bool is_letter(char32_t code_point) { return unicode_category(code_point) <= UnicodeCategory::Lo; }

bool is_number(char32_t code_point) {
  const UnicodeCategory category = unicode_category(code_point);
  return category >= UnicodeCategory::Nd && category <= UnicodeCategory::No;
}

bool is_mark(char32_t code_point) {
  const UnicodeCategory category = unicode_category(code_point);
  return category >= UnicodeCategory::Mn && category <= UnicodeCategory::Me;
}

bool is_white_space(char32_t code_point) {
  if (code_point < 128) return code_point == ' ' || (code_point >= 0x09 && code_point <= 0x0D);
  for (size_t i = 0; i < unicode_tables::kWhiteSpaceRangeCount; ++i) {
    if (code_point < unicode_tables::kWhiteSpaceRanges[i][0]) return false;
    if (code_point <= unicode_tables::kWhiteSpaceRanges[i][1]) return true;
  }
  return false;
}

const char* unicode_tables_version() { return unicode_tables::kUnicodeVersion; }

}  // namespace phirun
