// UTF-8 decoding with the exact rules of Unicode's Table 3-7 (no overlongs, no surrogates, nothing
// past U+10FFFF), error reporting by byte offset, and lossy repair with U+FFFD.
// The tokenizer validates all input here once, so later stages can assume well-formed text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace phirun {

struct Utf8Char {
  enum class Status : uint8_t {
    Valid,      // a whole, well-formed character
    Invalid,    // an ill-formed sequence: `length` is its maximal subpart (at least 1 byte)
    Truncated,  // a well-formed start cut off by the end of the input: `length` bytes present
  };
  Status status;
  uint32_t length;      // bytes this step covers
  char32_t code_point;  // meaningful when status is Valid
};

// Decodes the character starting at bytes[offset] (offset < bytes.size()).
Utf8Char decode_utf8_char(std::string_view bytes, size_t offset);

// Appends the UTF-8 encoding of a code point (<= U+10FFFF, not a surrogate).
void append_utf8(std::string& out, char32_t code_point);

// Throws std::runtime_error if `text` is not well-formed UTF-8. The message starts with `context`
// and names the byte offset and the offending bytes, e.g.
// "encode: invalid UTF-8 at byte offset 3: byte 0xff cannot appear in UTF-8".
void require_valid_utf8(std::string_view text, std::string_view context);

// Replaces each maximal ill-formed subpart (and a truncated sequence at the end) with U+FFFD,
// the same repair as Python's bytes.decode(errors="replace") and Rust's String::from_utf8_lossy.
std::string repair_utf8(std::string_view bytes);

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace phirun
