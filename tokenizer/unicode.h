// Unicode character classes for the pre-tokenizers: the general category of a code point and
// the White_Space property, from generated tables (tokenizer/gen_unicode_tables.py, Unicode 16.0).
// Regex-free: \p{L}, \p{N}, \s of the tokenizer patterns become these lookups.
#pragma once

#include <cstdint>

namespace phirun {

// Unicode general categories, in the order gen_unicode_tables.py numbers them.
enum class UnicodeCategory : uint8_t {
  Lu,
  Ll,
  Lt,
  Lm,
  Lo,  // letters
  Mn,
  Mc,
  Me,  // marks
  Nd,
  Nl,
  No,  // numbers
  Pc,
  Pd,
  Ps,
  Pe,
  Pi,
  Pf,
  Po,  // punctuation
  Sm,
  Sc,
  Sk,
  So,  // symbols
  Zs,
  Zl,
  Zp,  // separators
  Cc,
  Cf,
  Cs,
  Co,
  Cn,  // other; Cn = unassigned (and anything past U+10FFFF)
};

UnicodeCategory unicode_category(char32_t code_point);

// \p{L}: Lu, Ll, Lt, Lm, Lo.
bool is_letter(char32_t code_point);
// \p{N}: Nd, Nl, No. The same set as Rust's char::is_numeric, which Hugging Face's Digits
// pre-tokenizer uses, so "²", "½" and "Ⅳ" count as digits there too (Rust's std may follow a
// newer Unicode version than these tables: see tests/tokenizer/test_unicode.cpp).
bool is_number(char32_t code_point);
// \p{M}: Mn, Mc, Me.
bool is_mark(char32_t code_point);
// The White_Space property: what Oniguruma's Unicode \s matches (U+0009..U+000D, U+0085 and the
// Zs/Zl/Zp separators). Not Python's str.isspace(), which adds U+001C..U+001F.
bool is_white_space(char32_t code_point);

// The Unicode version the tables were generated from, e.g. "14.0.0".
const char* unicode_tables_version();

}  // namespace phirun
