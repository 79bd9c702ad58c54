// Running the phirun binary from a test: both streams captured, under a time limit, and the check
// that a bad input gave one clear error. Each test executable defines PHIRUN_EXECUTABLE.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace phirun::cli_test {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs phirun with `arguments` (already shell-quoted) under a time limit, capturing both streams.
inline RunResult run_phirun(const std::string& arguments, int timeout_seconds = 120) {
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

inline std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

inline int count_lines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

// One error line naming the problem, exit code 1 (2 for command-line mistakes).
inline void expect_one_error(const RunResult& result, const std::string& needle) {
  EXPECT_NE(result.exit_code, 0);
  EXPECT_LT(result.exit_code, 124) << "timed out or killed by a signal";
  EXPECT_NE(result.err.find(needle), std::string::npos) << "stderr: " << result.err;
  EXPECT_NE(result.err.find("error"), std::string::npos) << "stderr: " << result.err;
}

}  // namespace phirun::cli_test
