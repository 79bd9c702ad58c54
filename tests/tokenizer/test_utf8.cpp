// UTF-8 decoding, validation messages and U+FFFD repair, on hand-checked byte sequences (the
// repair results are those of Python's bytes.decode("utf-8", errors="replace")).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tokenizer/utf8.h"

namespace phirun {
namespace {

std::string error_of(std::string_view text) {
  try {
    require_valid_utf8(text, "test");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST(Utf8, DecodesEachLengthAndTheLimits) {
  const struct {
    std::string bytes;
    char32_t code_point;
  } cases[] = {
      {"A", U'A'},
      {"\x7f", 0x7F},
      {"\xc2\x80", 0x80},
      {"\xc3\xa9", 0xE9},
      {"\xdf\xbf", 0x7FF},
      {"\xe0\xa0\x80", 0x800},
      {"\xe2\x82\xac", 0x20AC},
      {"\xed\x9f\xbf", 0xD7FF},
      {"\xee\x80\x80", 0xE000},
      {"\xef\xbf\xbf", 0xFFFF},
      {"\xf0\x90\x80\x80", 0x10000},
      {"\xf0\x9f\x98\x80", 0x1F600},
      {"\xf4\x8f\xbf\xbf", 0x10FFFF},
  };
  for (const auto& c : cases) {
    const Utf8Char step = decode_utf8_char(c.bytes, 0);
    EXPECT_EQ(step.status, Utf8Char::Status::Valid) << c.bytes;
    EXPECT_EQ(step.length, c.bytes.size()) << c.bytes;
    EXPECT_EQ(step.code_point, c.code_point) << c.bytes;
    std::string encoded;
    append_utf8(encoded, c.code_point);
    EXPECT_EQ(encoded, c.bytes);
  }
}

TEST(Utf8, RejectsOverlongsSurrogatesAndPastMax) {
  // Each: the bytes and the length of the maximal ill-formed subpart at offset 0.
  const struct {
    std::string bytes;
    uint32_t invalid_length;
  } cases[] = {
      {"\x80", 1},      // continuation byte without a lead
      {"\xc0\xaf", 1},  // overlong '/', C0 never starts a character
      {"\xc1\xbf", 1},
      {"\xe0\x80\xaf", 1},      // overlong: E0 needs A0..BF next
      {"\xed\xa0\x80", 1},      // surrogate D800: ED needs 80..9F next
      {"\xf0\x80\x80\xaf", 1},  // overlong: F0 needs 90..BF next
      {"\xf4\x90\x80\x80", 1},  // U+110000
      {"\xf5\x80\x80\x80", 1},  // F5..FF never appear
      {"\xff", 1},
      {"\xc3\x28", 1},      // lead, then not a continuation
      {"\xe2\x82\x28", 2},  // two good bytes, then not a continuation
      {"\xf0\x9f\x98\x28", 3},
  };
  for (const auto& c : cases) {
    const Utf8Char step = decode_utf8_char(c.bytes, 0);
    EXPECT_EQ(step.status, Utf8Char::Status::Invalid) << testing::PrintToString(c.bytes);
    EXPECT_EQ(step.length, c.invalid_length) << testing::PrintToString(c.bytes);
  }
}

TEST(Utf8, ReportsTruncatedSequences) {
  for (std::string bytes : {"\xc3", "\xe2\x82", "\xf0\x9f\x98"}) {
    const Utf8Char step = decode_utf8_char(bytes, 0);
    EXPECT_EQ(step.status, Utf8Char::Status::Truncated);
    EXPECT_EQ(step.length, bytes.size());
  }
}

TEST(Utf8, ValidationNamesTheByteOffset) {
  EXPECT_EQ(error_of("plain ascii"), "");
  EXPECT_EQ(error_of("caf\xc3\xa9 \xf0\x9f\x98\x80"), "");
  EXPECT_EQ(error_of(std::string("a\0b", 3)), "");
  EXPECT_EQ(error_of("abc\xff"), "test: invalid UTF-8 at byte offset 3: byte 0xff cannot start a UTF-8 character");
  EXPECT_EQ(error_of("ab\xc3\x28"),
            "test: invalid UTF-8 at byte offset 2: byte 0x28 at offset 3 cannot continue the sequence starting "
            "with 0xc3");
  EXPECT_EQ(error_of("x\xed\xa0\x80"),
            "test: invalid UTF-8 at byte offset 1: byte 0xa0 at offset 2 cannot continue the sequence starting "
            "with 0xed");
  EXPECT_EQ(error_of("hi \xe2\x82"),
            "test: invalid UTF-8 at byte offset 3: the sequence starting with byte 0xe2 is cut off by the end "
            "of the text");
}

TEST(Utf8, RepairReplacesEachMaximalSubpart) {
  // Expected values from Python 3: bytes.decode("utf-8", errors="replace").
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(repair_utf8("ok \xc3\xa9"), "ok \xc3\xa9");
  EXPECT_EQ(repair_utf8("\xff"), fffd);
  EXPECT_EQ(repair_utf8("a\x80\x80"
                        "b"),
            "a" + fffd + fffd + "b");
  EXPECT_EQ(repair_utf8("\xe2\x82\x28"), fffd + "(");
  EXPECT_EQ(repair_utf8("\xe2\x82"), fffd);
  EXPECT_EQ(repair_utf8("\xed\xa0\x80"), fffd + fffd + fffd);
  EXPECT_EQ(repair_utf8("\xf0\x9f\x98"), fffd);
  EXPECT_EQ(repair_utf8("\xf0\x9f\x98\xf0\x9f\x98\x80"), fffd + "\xf0\x9f\x98\x80");
  EXPECT_EQ(repair_utf8("\xc0\xaf"), fffd + fffd);
}

}  // namespace
}  // namespace phirun
