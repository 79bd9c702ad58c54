// tojson writes what Python's json.dumps writes (expected strings below are Python's own output);
// parse_json reads strict JSON and names the byte of each problem.
#include <gtest/gtest.h>

#include <cmath>

#include "tokenizer/jinja/json.h"

namespace phirun::jinja {
namespace {

std::string parse_error(const std::string& text) {
  try {
    parse_json(text, "tools");
    return "(parsed)";
  } catch (const std::runtime_error& error) {
    return error.what();
  }
}

TEST(JinjaJson, DumpsLikePython) {
  const Value document = parse_json(R"({"a": [1, 2.5, null, true, "é\u2028😀\u007f\u001f"], "b": {}})", "doc");
  // json.dumps(..., ensure_ascii=False), transformers' tojson
  EXPECT_EQ(to_json(document), "{\"a\": [1, 2.5, null, true, \"é\u2028😀\x7f\\u001f\"], \"b\": {}}");
  JsonOptions ascii;
  ascii.ensure_ascii = true;
  EXPECT_EQ(to_json(document, ascii),
            R"({"a": [1, 2.5, null, true, "\u00e9\u2028\ud83d\ude00\u007f\u001f"], "b": {}})");
  JsonOptions indented;
  indented.indent = "  ";
  EXPECT_EQ(to_json(parse_json(R"({"a": [1, {"b": []}]})", "doc"), indented),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ]\n}");
  EXPECT_EQ(to_json(parse_json("[1e16, 1e-5, 0.1, -0.0, 123.0, 1e301]", "doc")),
            "[1e+16, 1e-05, 0.1, -0.0, 123.0, 1e+301]");
  EXPECT_EQ(to_json(Value(std::nan(""))), "NaN");
  EXPECT_EQ(to_json(Value(-HUGE_VAL)), "-Infinity");
  // A repeated key keeps its first place and its last value; surrogate pairs decode to one character.
  EXPECT_EQ(to_json(parse_json(R"({"a": 1, "b": 0, "a": 2, "c": "\ud83d\ude00"})", "doc")),
            "{\"a\": 2, \"b\": 0, \"c\": \"😀\"}");
  EXPECT_EQ(to_json(parse_json("-9223372036854775808", "doc")), "-9223372036854775808");
}

TEST(JinjaJson, ValuesJsonCannotHoldAreTypeErrors) {
  try {
    to_json(Value());
    FAIL();
  } catch (const EvalError& error) {
    EXPECT_EQ(error.message, "TypeError: Object of type Undefined is not JSON serializable");
  }
}

TEST(JinjaJson, BadJsonNamesTheByte) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "tools: invalid JSON at byte 0: unexpected end of text"},
      {"[1, 2", "tools: invalid JSON at byte 5: unexpected end of text"},
      {"[1 2]", "tools: invalid JSON at byte 3: ',' or ']' was expected in an array"},
      {"{\"a\" 1}", "tools: invalid JSON at byte 5: ':' was expected after an object key"},
      {"{a: 1}", "tools: invalid JSON at byte 1: an object key (a string) was expected"},
      {"[01]", "tools: invalid JSON at byte 3: a number cannot start with 0"},
      {"[1.]", "tools: invalid JSON at byte 3: a digit was expected after '.'"},
      {"99999999999999999999", "tools: invalid JSON at byte 20: unexpected end of text"},
      {"[99999999999999999999]",
       "tools: invalid JSON at byte 21: the integer 99999999999999999999 does not fit in 64 bits"},
      {"\"tab\there\"", "tools: invalid JSON at byte 4: a control character must be escaped in a string"},
      {"\"\\x41\"", "tools: invalid JSON at byte 3: unknown escape '\\x'"},
      {"\"\\ud800\"", "tools: invalid JSON at byte 7: a high surrogate escape must be followed by a low one"},
      {"\"\\udc00\"", "tools: invalid JSON at byte 7: a lone low surrogate escape is not a character"},
      {"\"caf\xc3\"", "tools: invalid JSON at byte 4: invalid UTF-8 in a string"},
      {"[1] x", "tools: invalid JSON at byte 4: unexpected text after the JSON value"},
      {"nul", "tools: invalid JSON at byte 0: unexpected character 'n'"},
      {"NaN", "tools: invalid JSON at byte 0: unexpected character 'N'"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(parse_error(text), message) << text;
  EXPECT_EQ(parse_error(std::string(300, '[') + std::string(300, ']')),
            "tools: invalid JSON at byte 256: nested more than 256 levels deep");
}

}  // namespace
}  // namespace phirun::jinja
