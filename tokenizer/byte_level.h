// GPT-2's byte-to-character map: byte-level BPE vocabularies spell every byte as a printable
// character (space is "Ġ", newline "Ċ"), so a token text like "Ġthe" stands for the bytes " the".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phirun {

// The character that stands for `byte`: printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ')
// stand for themselves; the other 68 bytes take U+0100 upwards in byte order.
char32_t byte_level_char(uint8_t byte);

// The byte a character stands for, or std::nullopt if it is not one of the 256.
std::optional<uint8_t> byte_from_byte_level_char(char32_t code_point);

// Spells arbitrary bytes in byte-level characters (UTF-8): " the" -> "Ġthe".
std::string byte_level_encode(std::string_view bytes);

// The bytes a well-formed UTF-8 token text stands for: "Ġthe" -> " the". std::nullopt if any
// character is not a byte-level character (added tokens such as "<|im_start|>" are all
// printable ASCII, so they decode to themselves).
std::optional<std::string> byte_level_decode(std::string_view token_text);

}  // namespace phirun
