// The generated Unicode data (tokenizer/unicode_tables.cpp, made by gen_unicode_tables.py).
// Internal to the tokenizer: use the lookups in tokenizer/unicode.h rather than these arrays.
#pragma once

#include <cstddef>
#include <cstdint>

namespace phirun::unicode_tables {

extern const char* const kUnicodeVersion;
extern const uint32_t kCategoryRuns[];  // (first code point << 5) | UnicodeCategory, sorted
extern const size_t kCategoryRunCount;
extern const uint32_t kWhiteSpaceRanges[][2];  // inclusive [first, last]
extern const size_t kWhiteSpaceRangeCount;

}  // namespace phirun::unicode_tables
