// The byte-to-character map of GPT-2's encoder.py (bytes_to_unicode), rebuilt from its rule:
// bytes that are printable in Latin-1 keep their code point, the rest are numbered from 256.
#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace phirun {
namespace {

constexpr bool is_printable_latin1(uint32_t byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

// The largest character the map uses: 256 + (number of non-printable bytes) - 1 = U+0143.
constexpr uint32_t kMaxByteLevelChar = 0x143;

struct ByteLevelMaps {
  std::array<char32_t, 256> char_of_byte{};
  std::array<int16_t, kMaxByteLevelChar + 1> byte_of_char{};  // -1: not a byte-level character
};

constexpr ByteLevelMaps build_maps() {
  ByteLevelMaps maps;
  for (auto& entry : maps.byte_of_char) entry = -1;
  uint32_t next_extra = 256;
  for (uint32_t byte = 0; byte < 256; ++byte) {
    const char32_t c = is_printable_latin1(byte) ? byte : next_extra++;
    maps.char_of_byte[byte] = c;
    maps.byte_of_char[c] = static_cast<int16_t>(byte);
  }
  return maps;
}

constexpr ByteLevelMaps kMaps = build_maps();
static_assert(kMaps.char_of_byte[' '] == 0x120, "space is 'Ġ' (U+0120)");
static_assert(kMaps.char_of_byte['\n'] == 0x10A, "newline is 'Ċ' (U+010A)");
static_assert(kMaps.char_of_byte[0xAD] == kMaxByteLevelChar, "the soft hyphen is the last extra byte");

}  // namespace

char32_t byte_level_char(uint8_t byte) { return kMaps.char_of_byte[byte]; }

std::optional<uint8_t> byte_from_byte_level_char(char32_t code_point) {
  if (code_point > kMaxByteLevelChar || kMaps.byte_of_char[code_point] < 0) return std::nullopt;
  return static_cast<uint8_t>(kMaps.byte_of_char[code_point]);
}

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char byte : bytes) append_utf8(out, byte_level_char(static_cast<uint8_t>(byte)));
  return out;
}

std::optional<std::string> byte_level_decode(std::string_view token_text) {
  std::string out;
  out.reserve(token_text.size());
  size_t offset = 0;
  while (offset < token_text.size()) {
    const Utf8Char step = decode_utf8_char(token_text, offset);
    if (step.status != Utf8Char::Status::Valid) return std::nullopt;
    const std::optional<uint8_t> byte = byte_from_byte_level_char(step.code_point);
    if (!byte) return std::nullopt;
    out += static_cast<char>(*byte);
    offset += step.length;
  }
  return out;
}

}  // namespace phirun
