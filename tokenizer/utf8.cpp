// UTF-8 decoding and validation. The well-formed sequences (the Unicode Standard, Table 3-7) are:
//   00..7F | C2..DF 80..BF | E0 A0..BF 80..BF | E1..EC,EE..EF 80..BF 80..BF | ED 80..9F 80..BF
//   F0 90..BF 80..BF 80..BF | F1..F3 80..BF x3 | F4 80..8F 80..BF 80..BF
#include "tokenizer/utf8.h"

#include <cstdio>
#include <stdexcept>

namespace phirun {
namespace {

struct LeadByteRule {
  uint32_t length;     // 0: the byte cannot start a character
  uint8_t second_min;  // allowed range of the second byte, which rules out overlongs,
  uint8_t second_max;  // surrogates and code points past U+10FFFF
};

LeadByteRule rule_for_lead_byte(uint8_t lead) {
  if (lead < 0x80) return {1, 0, 0};
  if (lead < 0xC2) return {0, 0, 0};
  if (lead < 0xE0) return {2, 0x80, 0xBF};
  if (lead == 0xE0) return {3, 0xA0, 0xBF};
  if (lead == 0xED) return {3, 0x80, 0x9F};
  if (lead < 0xF0) return {3, 0x80, 0xBF};
  if (lead == 0xF0) return {4, 0x90, 0xBF};
  if (lead < 0xF4) return {4, 0x80, 0xBF};
  if (lead == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

std::string hex_byte(uint8_t byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02x", byte);
  return buffer;
}

}  // namespace

Utf8Char decode_utf8_char(std::string_view bytes, size_t offset) {
  const auto lead = static_cast<uint8_t>(bytes[offset]);
  const LeadByteRule rule = rule_for_lead_byte(lead);
  if (rule.length == 1) return {Utf8Char::Status::Valid, 1, lead};
  if (rule.length == 0) return {Utf8Char::Status::Invalid, 1, 0};

  // Payload bits of the lead byte: 5, 4 or 3 for sequences of 2, 3 or 4 bytes.
  char32_t code_point = lead & (0x7Fu >> rule.length);
  for (uint32_t k = 1; k < rule.length; ++k) {
    if (offset + k >= bytes.size()) return {Utf8Char::Status::Truncated, k, 0};
    const auto byte = static_cast<uint8_t>(bytes[offset + k]);
    const uint8_t low = k == 1 ? rule.second_min : 0x80;
    const uint8_t high = k == 1 ? rule.second_max : 0xBF;
    if (byte < low || byte > high) return {Utf8Char::Status::Invalid, k, 0};
    code_point = (code_point << 6) | (byte & 0x3Fu);
  }
  return {Utf8Char::Status::Valid, rule.length, code_point};
}

void append_utf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

void require_valid_utf8(std::string_view text, std::string_view context) {
  size_t offset = 0;
  while (offset < text.size()) {
    if (static_cast<uint8_t>(text[offset]) < 0x80) {  // ASCII fast path
      ++offset;
      continue;
    }
    const Utf8Char step = decode_utf8_char(text, offset);
    if (step.status == Utf8Char::Status::Valid) {
      offset += step.length;
      continue;
    }
    std::string message(context);
    message += ": invalid UTF-8 at byte offset " + std::to_string(offset) + ": ";
    const auto lead = static_cast<uint8_t>(text[offset]);
    if (step.status == Utf8Char::Status::Truncated) {
      message += "the sequence starting with byte " + hex_byte(lead) + " is cut off by the end of the text";
    } else if (step.length == 1 && rule_for_lead_byte(lead).length == 0) {
      message += "byte " + hex_byte(lead) + " cannot start a UTF-8 character";
    } else {
      message += "byte " + hex_byte(static_cast<uint8_t>(text[offset + step.length])) + " at offset " +
                 std::to_string(offset + step.length) + " cannot continue the sequence starting with " + hex_byte(lead);
    }
    throw std::runtime_error(message);
  }
}

std::string repair_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t offset = 0;
  while (offset < bytes.size()) {
    const Utf8Char step = decode_utf8_char(bytes, offset);
    if (step.status == Utf8Char::Status::Valid) {
      out.append(bytes.substr(offset, step.length));
    } else {
      out.append(kReplacementCharacter);
    }
    offset += step.length;
  }
  return out;
}

}  // namespace phirun
