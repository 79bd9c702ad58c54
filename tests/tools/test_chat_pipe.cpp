// `phirun chat` with messages piped in (each line a turn, or a block): the KV cache kept across
// turns, /save and /load, context shift, and bad input that gets a clear message while the chat
// goes on. Tiny random models keep these fast; the real model is driven in test_chat_terminal.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/test_model.h"
#include "tests/common/tiny_model.h"

namespace phirun {
namespace {

struct ChatRun {
  int exit_code = -1;
  std::string out, err;
  std::vector<nlohmann::json> answers;  // --json: one object per stdout line
};

std::string temp_path(const std::string& name) {
  static int call = 0;
  return ::testing::TempDir() + "chat_pipe_" + std::to_string(::getpid()) + "_" + std::to_string(++call) + "_" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Runs `phirun chat ARGUMENTS` with `input` on stdin (a file, so not a terminal).
ChatRun run_chat(const std::string& arguments, const std::string& input, int timeout_seconds = 300) {
  const std::string in_path = temp_path("in"), out_path = temp_path("out"), err_path = temp_path("err");
  std::ofstream(in_path, std::ios::binary) << input;
  const std::string command = "timeout " + std::to_string(timeout_seconds) + " " + PHIRUN_EXECUTABLE + " chat " +
                              arguments + " <" + in_path + " >" + out_path + " 2>" + err_path;
  const int status = std::system(command.c_str());
  ChatRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = read_file(out_path);
  run.err = read_file(err_path);
  if (arguments.find("--json") != std::string::npos) {
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) run.answers.push_back(nlohmann::json::parse(line));
  }
  for (const std::string& path : {in_path, out_path, err_path}) std::filesystem::remove(path);
  return run;
}

std::string tiny_model(const std::string& name, const std::string& chat_template = "") {
  testing::TinyModelOptions options;
  if (!chat_template.empty())
    options.override_keys = {{"tokenizer.chat_template", GgufValue::of_string(chat_template)}};
  const std::string path = temp_path(name + ".gguf");
  testing::write_tiny_llama_gguf(path, options);
  return path;
}

TEST(ChatPipe, EachLineIsATurnAndTheCacheIsKept) {
  const std::string model = tiny_model("turns");
  const ChatRun run = run_chat("--json -n 4 -m " + quote(model), "hello\nhow are you\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.answers.size(), 2u) << run.out;
  const auto& first = run.answers[0];
  const auto& second = run.answers[1];
  EXPECT_EQ(first["reused_tokens"], 0);
  EXPECT_EQ(first["processed_tokens"], first["prompt_tokens"]);
  EXPECT_EQ(first["tokens"], 4);
  EXPECT_EQ(first["stop"], "answer limit (-n 4)");
  // Turn 2 reuses at least turn 1's prompt (its answer too, where the text tokenizes back alike).
  EXPECT_GE(second["reused_tokens"].get<int>(), first["prompt_tokens"].get<int>());
  EXPECT_EQ(second["processed_tokens"].get<int>(),
            second["prompt_tokens"].get<int>() - second["reused_tokens"].get<int>());
  for (const char* key : {"text", "prompt_seconds", "decode_seconds", "tokens_per_second"})
    EXPECT_TRUE(second.contains(key)) << key;
  std::filesystem::remove(model);
}

// The cache changes what is computed, never the answer: turn 2 after turn 1 in one process equals
// turn 2 of a fresh process that loads the saved turn 1.
TEST(ChatPipe, CachedTurnAnswersAsAFreshOne) {
  const std::string model = tiny_model("fresh");
  const std::string saved = temp_path("turn1.json");
  const ChatRun cached = run_chat("--json -n 6 -m " + quote(model), "hello there\n/save " + saved + "\nand then?\n");
  ASSERT_EQ(cached.exit_code, 0) << cached.err;
  ASSERT_EQ(cached.answers.size(), 2u);
  EXPECT_GT(cached.answers[1]["reused_tokens"].get<int>(), 0);
  const nlohmann::json file = nlohmann::json::parse(read_file(saved));
  EXPECT_EQ(file["format"], "phirun-chat");
  ASSERT_EQ(file["messages"].size(), 2u);
  EXPECT_EQ(file["messages"][0]["role"], "user");
  EXPECT_EQ(file["messages"][0]["content"], "hello there");
  EXPECT_EQ(file["messages"][1]["content"], cached.answers[0]["text"]);

  const ChatRun fresh = run_chat("--json -n 6 -m " + quote(model), "/load " + saved + "\nand then?\n");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  ASSERT_EQ(fresh.answers.size(), 1u);
  EXPECT_EQ(fresh.answers[0]["reused_tokens"], 0);
  EXPECT_EQ(fresh.answers[0]["prompt_tokens"], cached.answers[1]["prompt_tokens"]);
  EXPECT_EQ(fresh.answers[0]["text"], cached.answers[1]["text"]);
  EXPECT_NE(fresh.err.find("loaded 2 messages"), std::string::npos) << fresh.err;
  std::filesystem::remove(saved);
  std::filesystem::remove(model);
}

TEST(ChatPipe, BadInputGetsAMessageAndTheChatGoesOn) {
  const std::string model = tiny_model("bad_input");
  const std::string malformed = temp_path("malformed.json"), not_json = temp_path("not.json");
  std::ofstream(malformed) << R"({"messages": [{"role": "user", "content": 7}]})";
  std::ofstream(not_json) << "{\"messages\": [";
  const std::string paste(100 * 1024, 'x');
  const std::string input = "\xff\xfe oops\n\n   \n" + paste + "\n/load " + malformed + "\n/load " + not_json +
                            "\n/load /nonexistent/chat.json\n/frobnicate\n/save\nhi\n";
  const ChatRun run = run_chat("--json -n 2 -m " + quote(model), input);
  EXPECT_EQ(run.exit_code, 1) << "piped input with failed turns exits 1";
  const std::vector<std::string> expected = {
      "line 1: the message is not valid UTF-8: invalid UTF-8 at byte offset 0",
      "line 2: empty message: nothing sent",
      "line 3: empty message: nothing sent",
      "line 4: this message is too long: the prompt would take",
      "line 5: " + malformed + ": message 1 has no \"content\" string",
      "line 6: " + not_json + ": not valid JSON",
      "line 7: /nonexistent/chat.json: no such file",
      "line 8: unknown command /frobnicate",
      "line 9: /save needs a file name",
  };
  for (const std::string& message : expected)
    EXPECT_NE(run.err.find(message), std::string::npos) << message << "\n" << run.err;
  // One JSON line per failure that is a turn or a command (empty lines send nothing), then the answer.
  ASSERT_EQ(run.answers.size(), 8u) << run.out;
  for (size_t i = 0; i + 1 < run.answers.size(); ++i) EXPECT_TRUE(run.answers[i].contains("error")) << i;
  EXPECT_EQ(run.answers.back()["tokens"], 2);
  EXPECT_EQ(run.answers.back()["reused_tokens"], 0);
  for (const std::string& path : {malformed, not_json, model}) std::filesystem::remove(path);
}

TEST(ChatPipe, TemplateThatRaisesIsReportedAndTheChatGoesOn) {
  const std::string model = tiny_model("raising",
                                       "{% if messages[0].role != 'system' %}{{ raise_exception('A system message "
                                       "is required') }}{% endif %}{% for m in messages %}{{ m.content }}{% endfor %}");
  const ChatRun run = run_chat("--json -n 2 -m " + quote(model), "hi\n/system Be brief.\nhi\n");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("line 1: chat template: the template raised an error: A system message is required"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("(the message was not sent)"), std::string::npos) << run.err;
  ASSERT_EQ(run.answers.size(), 2u) << run.out;
  EXPECT_TRUE(run.answers[0].contains("error"));
  EXPECT_EQ(run.answers[1]["tokens"], 2);
  std::filesystem::remove(model);
}

TEST(ChatPipe, FullContextDropsTheOldestTurnsOrStops) {
  const std::string model = tiny_model("context");  // a context of 128 tokens
  std::string input;
  for (int turn = 0; turn < 8; ++turn) input += "tell me about the weather today, turn " + std::to_string(turn) + "\n";
  const ChatRun shifted = run_chat("--json -n 8 -m " + quote(model), input);
  ASSERT_EQ(shifted.exit_code, 0) << shifted.err;
  ASSERT_EQ(shifted.answers.size(), 8u) << shifted.out;
  int dropped = 0;
  for (const auto& answer : shifted.answers) {
    dropped += answer["dropped_turns"].get<int>();
    EXPECT_LE(answer["prompt_tokens"].get<int>() + 8, 128);
  }
  EXPECT_GT(dropped, 0);
  EXPECT_NE(shifted.err.find("the context was full: dropped the"), std::string::npos) << shifted.err;

  const ChatRun stopped = run_chat("--json -n 8 --no-context-shift -m " + quote(model), input);
  EXPECT_EQ(stopped.exit_code, 1);
  EXPECT_NE(stopped.err.find("the context is full"), std::string::npos) << stopped.err;
  ASSERT_GE(stopped.answers.size(), 2u);
  EXPECT_LT(stopped.answers.size(), 8u);  // it stops at the first turn that does not fit
  EXPECT_TRUE(stopped.answers.back().contains("error"));
  std::filesystem::remove(model);
}

TEST(ChatPipe, MessagesOverSeveralLines) {
  const std::string model = tiny_model("multiline");
  const std::string saved = temp_path("multiline.json");
  const ChatRun run =
      run_chat("--json -n 1 -m " + quote(model), "one\\\ntwo\n\"\"\"\nthree\n\nfour\n\"\"\"\n/save " + saved + "\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json file = nlohmann::json::parse(read_file(saved));
  ASSERT_EQ(file["messages"].size(), 4u);
  EXPECT_EQ(file["messages"][0]["content"], "one\ntwo");
  EXPECT_EQ(file["messages"][2]["content"], "three\n\nfour");
  std::filesystem::remove(saved);
  std::filesystem::remove(model);
}

// The real model: a stop string cuts the answer (and the generation) where it appears, and the
// next turn still reuses the cache; --system replaces the template's default system prompt.
TEST(ChatPipe, StopStringsAndSystemPromptWithTheDefaultModel) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const ChatRun run = run_chat("--json --stop Paris --system 'Answer in one sentence.' -m " + quote(model_path),
                               "What is the capital of France?\nAnd of Germany?\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.answers.size(), 2u) << run.out;
  EXPECT_EQ(run.answers[0]["text"], "The capital of France is ");
  EXPECT_EQ(run.answers[0]["stop"], "stop string");
  EXPECT_NE(run.answers[1]["text"].get<std::string>().find("Berlin"), std::string::npos) << run.out;
  EXPECT_GE(run.answers[1]["reused_tokens"].get<int>(), run.answers[0]["prompt_tokens"].get<int>());
  // SmolLM2's default system prompt is 23 tokens of "You are a helpful AI assistant named SmolLM...";
  // this one is shorter.
  EXPECT_LT(run.answers[0]["prompt_tokens"].get<int>(), 37);
}

TEST(ChatPipe, HelpSystemAndExit) {
  const std::string model = tiny_model("commands");
  const ChatRun run =
      run_chat("--json -n 1 -m " + quote(model), "/help\n/system\n/system Be brief.\n/system\n/exit\nhi\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* command : {"/reset", "/system TEXT", "/stats", "/save FILE", "/load FILE", "/exit", "Ctrl-C"})
    EXPECT_NE(run.err.find(command), std::string::npos) << command << "\n" << run.err;
  EXPECT_NE(run.err.find("(no system prompt)"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("system: Be brief."), std::string::npos) << run.err;
  EXPECT_TRUE(run.answers.empty()) << "nothing is read after /exit: " << run.out;
  std::filesystem::remove(model);
}

TEST(ChatPipe, OneQuestionAsJson) {
  const std::string model = tiny_model("one_json");
  const ChatRun run = run_chat("--json -n 3 -p hi -m " + quote(model), "");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.answers.size(), 1u) << run.out;
  EXPECT_EQ(run.answers[0]["tokens"], 3);
  std::filesystem::remove(model);
}

}  // namespace
}  // namespace phirun
