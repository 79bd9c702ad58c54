// Character data of Python's str methods (case mappings and the properties its methods test),
// generated from Python itself by gen_python_unicode.py into python_unicode_tables.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace phirun::jinja::tables {

// first, first + stride, ... up to last (inclusive) map to code point + delta.
struct CaseRun {
  char32_t first;
  char32_t last;
  uint8_t stride;
  int32_t delta;
};

// A mapping to two or three characters (zero-padded).
struct SpecialCase {
  char32_t code_point;
  char32_t mapped[3];
};

struct CodePointRange {
  char32_t first;
  char32_t last;  // inclusive
};

extern const char* const kPythonUnicodeVersion;

extern const CaseRun kUpperRuns[], kLowerRuns[], kTitleRuns[];
extern const size_t kUpperRunCount, kLowerRunCount, kTitleRunCount;
extern const SpecialCase kUpperSpecial[], kLowerSpecial[], kTitleSpecial[];
extern const size_t kUpperSpecialCount, kLowerSpecialCount, kTitleSpecialCount;

extern const CodePointRange kCased[], kCaseIgnorable[], kSpace[], kPrintable[];
extern const size_t kCasedCount, kCaseIgnorableCount, kSpaceCount, kPrintableCount;

}  // namespace phirun::jinja::tables
