// Python's str methods over UTF-8, checked against what CPython 3.11 returns (the expected values
// are Python's output), and Python's float repr on a sweep of doubles.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "tokenizer/jinja/python_string.h"
#include "tokenizer/jinja/value.h"

namespace phirun::jinja {
namespace {

using Parts = std::vector<std::string>;

TEST(JinjaStrings, SplitAndStripLikePython) {
  EXPECT_EQ(python_split("  a b  c ", std::nullopt, 1), (Parts{"a", "b  c "}));
  EXPECT_EQ(python_rsplit(" a  b ", std::nullopt, 1), (Parts{" a", "b"}));
  EXPECT_EQ(python_rsplit("a,b,,c", std::string(","), 2), (Parts{"a,b", "", "c"}));
  EXPECT_EQ(python_split("a\u3000b\u2003c", std::nullopt, -1), (Parts{"a", "b", "c"}));
  EXPECT_EQ(python_split("", std::string(","), -1), (Parts{""}));
  EXPECT_EQ(python_strip("\t x \u3000\u00a0\x1c", std::nullopt, true, true), "x");
  EXPECT_EQ(python_strip("xxhixx", std::string("x"), true, true), "hi");
  EXPECT_EQ(python_strip("éaé", std::string("é"), true, false), "aé");
  EXPECT_EQ(python_replace("abc", "", "-", -1), "-a-b-c-");
  EXPECT_EQ(python_replace("héllo", "", "|", 3), "|h|é|llo");
  EXPECT_EQ(python_find("héllo", "l", false), 2);
  EXPECT_EQ(python_find("héllo", "l", true), 3);
  EXPECT_EQ(python_count("aaaa", "aa"), 2);
  EXPECT_EQ(python_splitlines("a\nb\r\nc\rd\x1c"
                              "e",
                              false),
            (Parts{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(python_splitlines("a\n\nb\n", true), (Parts{"a\n", "\n", "b\n"}));
}

TEST(JinjaStrings, CaseMappingIsPythonsFullMapping) {
  EXPECT_EQ(python_upper("straße İstanbul ǆ ŉ ﬁx"), "STRASSE İSTANBUL Ǆ ʼN FIX");
  EXPECT_EQ(python_lower("ΣΑΣ ΌΣΟΣ. AΣ\u0301"), "σας όσος. aς\u0301");  // final sigma, as CPython
  EXPECT_EQ(python_title("hello wORLD they're ǆx 1a"), "Hello World They'Re ǅx 1A");
  EXPECT_EQ(python_capitalize("ǆemal ΣΣ"), "ǅemal σς");
  EXPECT_EQ(python_lower("İ"), "i\u0307");
}

TEST(JinjaStrings, ReprLikePython) {
  EXPECT_EQ(python_string_repr("it's"), "\"it's\"");
  EXPECT_EQ(python_string_repr("say \"hi\" it's"), "'say \"hi\" it\\'s'");
  using namespace std::string_literals;
  EXPECT_EQ(python_string_repr("a\0b\x7f\u0085\u200b\u00a0é😀\U000E0001\ud7ff"s),
            "'a\\x00b\\x7f\\x85\\u200b\\xa0é😀\\U000e0001\\ud7ff'");
}

TEST(JinjaStrings, SlicesFollowPythonsRules) {
  EXPECT_EQ(slice_string("héllo", 1, 3, 1), "él");
  EXPECT_EQ(slice_string("héllo", std::nullopt, std::nullopt, -1), "olléh");
  EXPECT_EQ(slice_string("héllo", -2, std::nullopt, 1), "lo");
  EXPECT_EQ(slice_string("héllo", 10, std::nullopt, 1), "");
  EXPECT_EQ(slice_indexes(4, 5, 1, -1), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(slice_indexes(4, std::nullopt, std::nullopt, 3), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(slice_indexes(4, -10, 10, 1), (std::vector<int64_t>{0, 1, 2, 3}));
}

// Python's repr is the shortest string that reads back to the same double. Whatever digits we
// print must read back exactly, and the layout must follow repr's rules; the conformance fixture
// checks the exact text against Python for 211 doubles of every magnitude.
TEST(JinjaStrings, FloatReprRoundTripsAndFollowsPythonsLayout) {
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(float_repr(1e-4), "0.0001");
  EXPECT_EQ(float_repr(1e-5), "1e-05");
  EXPECT_EQ(float_repr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(float_repr(5e-324), "5e-324");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  std::mt19937_64 random(42);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = random();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    const std::string text = float_repr(value);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
    const bool scientific = text.find('e') != std::string::npos;
    const int exponent = value == 0 ? 0 : int(std::floor(std::log10(std::fabs(value))));
    if (std::fabs(value) >= 1e-3 && std::fabs(value) < 1e15) {
      EXPECT_FALSE(scientific) << text;
    }
    if (exponent < -5 || exponent > 16) {
      EXPECT_TRUE(scientific) << text;
    }
  }
}

}  // namespace
}  // namespace phirun::jinja
