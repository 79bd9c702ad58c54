// The /load reader (tools/chat_file) on transcripts from strangers: every bad one is a
// std::runtime_error naming the file, including what fuzz_chat_file found.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tools/chat_file.h"

namespace {

std::string load_error(const std::string& text) {
  try {
    phirun::cli::parse_conversation(text, "chat.json");
    return "(loaded)";
  } catch (const std::runtime_error& error) {
    return error.what();
  }
}

TEST(ChatFile, ReadsBothShapes) {
  const auto saved = phirun::cli::parse_conversation(
      R"({"format": "phirun-chat", "version": 1, "messages": [{"role": "user", "content": "hi"}]})", "chat.json");
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].role, "user");
  EXPECT_EQ(saved[0].content, "hi");
  EXPECT_EQ(phirun::cli::parse_conversation(R"([{"role": "assistant", "content": ""}])", "chat.json").size(), 1u);
}

// fuzz_chat_file's first finding: nlohmann-json reports a number past double's range as
// out_of_range, not parse_error, and it escaped the reader as a non-runtime_error exception.
TEST(ChatFile, ANumberPastDoublesRangeIsAClearError) {
  EXPECT_EQ(load_error("[88888e999999]"),
            "chat.json: not valid JSON: [json.exception.out_of_range.406] number overflow parsing '88888e999999'");
  EXPECT_EQ(load_error(R"([{"role": "user", "content": "x", "n": -1e400}])"),
            "chat.json: not valid JSON: [json.exception.out_of_range.406] number overflow parsing '-1e400'");
}

TEST(ChatFile, MalformedTranscriptsAreClearErrors) {
  EXPECT_EQ(load_error(""),
            "chat.json: not valid JSON: [json.exception.parse_error.101] parse error at line 1, "
            "column 1: syntax error while parsing value - unexpected end of input; expected '[', "
            "'{', or a literal");
  EXPECT_EQ(load_error("{}"), "chat.json: no \"messages\" array in the object");
  EXPECT_EQ(load_error("[1]"), "chat.json: message 1 is not an object");
  EXPECT_EQ(load_error(R"([{"role": "", "content": "x"}])"), "chat.json: message 1 has no \"role\" string");
  EXPECT_EQ(load_error(R"([{"role": "user", "content": null}])"), "chat.json: message 1 has no \"content\" string");
}

}  // namespace
