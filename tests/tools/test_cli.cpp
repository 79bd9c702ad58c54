// The phirun binary end to end: the default model answers, and every kind of bad input gives one
// clear error line on stderr and a non-zero exit, never a crash or a hang.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/common/test_model.h"

namespace phirun {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs phirun with `arguments` (already shell-quoted) under a time limit, capturing both streams.
RunResult run_phirun(const std::string& arguments, int timeout_seconds = 120) {
  // ctest runs tests as parallel processes: each call gets files of its own.
  static int call = 0;
  const std::string stem =
      ::testing::TempDir() + "phirun_cli_" + std::to_string(::getpid()) + "_" + std::to_string(++call);
  const std::string out_path = stem + ".out", err_path = stem + ".err";
  const std::string command = "timeout " + std::to_string(timeout_seconds) + " " + PHIRUN_EXECUTABLE + " " + arguments +
                              " >" + out_path + " 2>" + err_path + " </dev/null";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return result;
}

std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

int count_lines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

// One error line naming the problem, exit code 1 (2 for command-line mistakes).
void expect_one_error(const RunResult& result, const std::string& needle) {
  EXPECT_NE(result.exit_code, 0);
  EXPECT_LT(result.exit_code, 124) << "timed out or killed by a signal";
  EXPECT_NE(result.err.find(needle), std::string::npos) << "stderr: " << result.err;
  EXPECT_NE(result.err.find("error"), std::string::npos) << "stderr: " << result.err;
}

TEST(Cli, NoArgumentsPrintsCommandsWithExamples) {
  const RunResult result = run_phirun("");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* command : {"chat", "generate", "tokenize", "info"})
    EXPECT_NE(result.out.find(std::string("phirun ") + command), std::string::npos) << command;
}

TEST(Cli, UnknownCommandPrintsCommands) {
  const RunResult result = run_phirun("frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(result.err.find("phirun generate"), std::string::npos);
}

TEST(Cli, EverySubcommandHasHelpWithAnExample) {
  for (const char* command : {"chat", "generate", "tokenize", "info", "bench"}) {
    const RunResult result = run_phirun(std::string(command) + " --help");
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_NE(result.out.find("Example: phirun"), std::string::npos) << command << ": " << result.out;
  }
}

TEST(Cli, BadFlagIsAnError) {
  const RunResult result = run_phirun("generate --no-such-flag");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("no-such-flag"), std::string::npos) << result.err;
  const RunResult threads = run_phirun("generate -t 0 -p hi");
  EXPECT_NE(threads.exit_code, 0);
}

TEST(Cli, MissingModelFile) {
  const RunResult result = run_phirun("info /nonexistent/model.gguf");
  expect_one_error(result, "/nonexistent/model.gguf: cannot open");
  EXPECT_EQ(count_lines(result.err), 1) << result.err;
}

TEST(Cli, DirectoryAndNonGgufFiles) {
  const std::string text_file = ::testing::TempDir() + "not_a_model_" + std::to_string(::getpid()) + ".gguf";
  std::ofstream(text_file) << "hello, this is not a model\n";
  expect_one_error(run_phirun("info " + quote(text_file)), "not a GGUF file");
  expect_one_error(run_phirun("generate -p hi -m " + quote(text_file)), "not a GGUF file");
  expect_one_error(run_phirun("info " + quote(::testing::TempDir())), "not a regular file");
  std::filesystem::remove(text_file);
}

// A prefix of the real model: the header and metadata are intact, the tensors run off the end.
TEST(Cli, TruncatedRealModel) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const std::string truncated = ::testing::TempDir() + "truncated_" + std::to_string(::getpid()) + ".gguf";
  for (uint64_t size : {uint64_t(10), uint64_t(100000), uint64_t(50000000)}) {
    std::filesystem::copy_file(model_path, truncated, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(truncated, size);
    const RunResult result = run_phirun("generate -p hi -m " + quote(truncated));
    expect_one_error(result, truncated + ":");
    EXPECT_EQ(count_lines(result.err), 1) << result.err;
  }
  std::filesystem::remove(truncated);
}

TEST(Cli, DefaultModelAnswersParis) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result = run_phirun("chat -m " + quote(model_path) + " -p 'What is the capital of France?'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "The capital of France is Paris.\n");
  EXPECT_NE(result.err.find("prompt 37 tokens"), std::string::npos) << result.err;
}

TEST(Cli, GenerateIdsAndTokenize) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult ids = run_phirun("chat --ids -m " + quote(model_path) + " -p 'What is the capital of France?'");
  EXPECT_EQ(ids.out, "504 3575 282 4649 314 7042 30 2\n") << ids.err;
  const RunResult tokens = run_phirun("tokenize -m " + quote(model_path) + " -p 'Hello world 42'");
  EXPECT_EQ(tokens.exit_code, 0) << tokens.err;
  EXPECT_EQ(tokens.out, "19556 905 216 36 34\n");
  const RunResult pieces = run_phirun("tokenize --pieces -m " + quote(model_path) + " -p 'Hi\n'");
  EXPECT_EQ(pieces.out, "26843\t'Hi'\n198\t'\\n'\n");
}

TEST(Cli, PromptLongerThanContext) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result =
      run_phirun("generate -c 8 -m " + quote(model_path) + " -p 'one two three four five six seven eight nine ten'");
  expect_one_error(result, "context holds 8");
  const RunResult too_big = run_phirun("generate -c 100000 -p hi -m " + quote(model_path));
  expect_one_error(too_big, "trained for 8192");
}

TEST(Cli, InvalidUtf8Prompt) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const std::string prompt_file = ::testing::TempDir() + "invalid_utf8_" + std::to_string(::getpid()) + ".txt";
  std::ofstream(prompt_file, std::ios::binary) << "abc\xff def";
  const RunResult result = run_phirun("generate -m " + quote(model_path) + " -f " + quote(prompt_file));
  expect_one_error(result, "UTF-8");
  EXPECT_EQ(count_lines(result.err), 1) << result.err;
  std::filesystem::remove(prompt_file);
}

TEST(Cli, MissingPrompt) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  expect_one_error(run_phirun("generate -m " + quote(model_path)), "no prompt");
  expect_one_error(run_phirun("generate -f /nonexistent/prompt.txt -m " + quote(model_path)),
                   "/nonexistent/prompt.txt: cannot open");
}

TEST(Cli, DefaultModelMissingSaysHowToFetchIt) {
  // Run with an empty cache folder so that the default model cannot be found.
  const std::string empty_cache = ::testing::TempDir() + "empty_phirun_cache";
  std::filesystem::create_directories(empty_cache);
  const std::string command =
      "env PHIRUN_CACHE_DIR=" + quote(empty_cache) + " " + PHIRUN_EXECUTABLE + " generate -p hi 2>&1 >/dev/null";
  std::array<char, 512> buffer{};
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  while (fgets(buffer.data(), int(buffer.size()), pipe)) output += buffer.data();
  const int status = pclose(pipe);
  EXPECT_NE(status, 0);
  EXPECT_NE(output.find("scripts/fetch-model.sh"), std::string::npos) << output;
}

TEST(Cli, InfoSystemNamesTheChosenKernelVariant) {
  const RunResult result = run_phirun("info --system");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("kernel variants: scalar"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("chosen:"), std::string::npos) << result.out;
  expect_one_error(run_phirun("generate -p hi --isa sse9"), "unknown kernel variant");
}

TEST(Cli, BenchReportsEveryTestAndThreadCountAsJson) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result = run_phirun("bench -m " + quote(model_path) + " -p 8 -n 4 -r 2 -t 1,2 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json["results"].size(), 4u) << result.out;
  EXPECT_EQ(json["results"][0]["test"], "pp8");
  EXPECT_EQ(json["results"][1]["test"], "tg4");
  EXPECT_EQ(json["results"][2]["threads"], 2);
  for (const auto& r : json["results"]) {
    EXPECT_EQ(r["runs"].size(), 2u);
    EXPECT_GT(r["median_tokens_per_second"].get<double>(), 0.0);
  }
  EXPECT_GT(json["peak_rss_bytes"].get<double>(), json["file_bytes"].get<double>() * 0.5);
  expect_one_error(run_phirun("bench -m " + quote(model_path) + " -t 1,x"), "expected thread counts");
}

TEST(Cli, Int8AccuracyRuns) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result = run_phirun("generate --accuracy int8 -n 4 -m " + quote(model_path) + " -p 'Once upon'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(result.out.empty());
}

}  // namespace
}  // namespace phirun
