// `phirun chat` driven as a person uses it: in a pseudo-terminal (forkpty), with the real default
// model, keys typed one message at a time, Ctrl-C in the middle of an answer, Ctrl-D to quit. The
// test reads the screen (what the terminal shows: echo, prompts, answers, notes).
#include <gtest/gtest.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tests/common/test_model.h"

namespace phirun {
namespace {

using Clock = std::chrono::steady_clock;

// A program running in a pseudo-terminal, and everything it has written to it so far.
class Terminal {
 public:
  explicit Terminal(std::vector<std::string> arguments) {
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    winsize size{};
    size.ws_row = 40;
    size.ws_col = 200;
    pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
    if (pid_ == 0) {
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  bool started() const { return pid_ > 0; }

  void type(const std::string& keys) { ASSERT_EQ(::write(master_, keys.data(), keys.size()), ssize_t(keys.size())); }

  // Reads the screen until `needle` appears at or after `from`; false after `seconds`.
  bool wait_for(const std::string& needle, size_t from, int seconds = 300) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (screen_.find(needle, from) == std::string::npos) {
      if (Clock::now() > deadline || !read_some(deadline)) return false;
    }
    return true;
  }
  // Reads until the screen holds at least `bytes` bytes; false after `seconds`.
  bool wait_for_size(size_t bytes, int seconds = 300) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (screen_.size() < bytes) {
      if (Clock::now() > deadline || !read_some(deadline)) return false;
    }
    return true;
  }
  // Reads until the program exits (the pty reports end of file); returns its exit status or -1.
  int wait_exit(int seconds = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline && read_some(deadline)) {
    }
    for (int i = 0; i < seconds * 10; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::usleep(100000);
    }
    return -1;
  }
  // The screen as text: the terminal's "\r\n" line ends become "\n".
  std::string screen() const {
    std::string text;
    for (char c : screen_)
      if (c != '\r') text += c;
    return text;
  }
  size_t size() const { return screen_.size(); }
  // Waits for the end of a turn that began at or after `from`: its --verbose line, whole, and the
  // prompt after it. Waiting for the prompt alone is not enough: the prompt shown before the turn
  // can arrive after `from` was taken (the program writes in several pieces), and a note such as
  // "(answer stopped)" is a separate write from the figures line that follows it.
  bool wait_for_turn_end(size_t from, int seconds = 300) {
    if (!wait_for("[prompt ", from, seconds)) return false;
    const size_t line = screen_.find("[prompt ", from);
    if (!wait_for("]", line, seconds)) return false;
    return wait_for("\n> ", screen_.find(']', line), seconds);
  }

 private:
  bool read_some(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd wait{master_, POLLIN, 0};
    if (::poll(&wait, 1, int(std::max<int64_t>(left, 0))) <= 0) return false;
    char chunk[4096];
    const ssize_t got = ::read(master_, chunk, sizeof chunk);
    if (got <= 0) return false;  // EIO: the program closed the terminal
    screen_.append(chunk, size_t(got));
    return true;
  }

  int master_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string screen_;
};

struct TurnFigures {
  long prompt = -1, reused = -1, processed = -1, answer = -1;
  std::string stop;
};

// The --verbose line after an answer, the first at or after `from`:
// "[prompt 59 tokens: reused 44 cached tokens, processed 15 (...) | answer 8 tokens (...) | stop: end token]"
// (read with sscanf: std::regex trips GCC 12's -Wmaybe-uninitialized in the sanitizer build).
TurnFigures figures_after(const std::string& screen, size_t from) {
  TurnFigures figures;
  const size_t start = screen.find("[prompt ", std::min(from, screen.size()));
  if (start == std::string::npos) return figures;
  const size_t end = screen.find(']', start);
  const std::string line = screen.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (std::sscanf(line.c_str(), "[prompt %ld tokens: reused %ld cached tokens, processed %ld", &figures.prompt,
                  &figures.reused, &figures.processed) != 3)
    return TurnFigures{};
  const size_t answer = line.find("| answer "), stop = line.find("| stop: ");
  if (answer == std::string::npos || stop == std::string::npos) return TurnFigures{};
  if (std::sscanf(line.c_str() + answer, "| answer %ld tokens", &figures.answer) != 1) return TurnFigures{};
  figures.stop = line.substr(stop + std::strlen("| stop: "));
  return figures;
}

TEST(ChatTerminal, TwoTurnsResetInterruptAndQuit) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  Terminal terminal({PHIRUN_EXECUTABLE, "chat", "-m", model_path, "--verbose", "-n", "400"});
  ASSERT_TRUE(terminal.started());
  ASSERT_TRUE(terminal.wait_for("/help lists the commands", 0)) << terminal.screen();
  ASSERT_TRUE(terminal.wait_for("> ", 0)) << terminal.screen();

  // Turn 1: the whole prompt goes through the model.
  size_t mark = terminal.size();
  terminal.type("What is the capital of France?\n");
  ASSERT_TRUE(terminal.wait_for_turn_end(mark)) << terminal.screen();
  std::string screen = terminal.screen();
  EXPECT_NE(screen.find("What is the capital of France?\nThe capital of France is Paris.\n"), std::string::npos)
      << screen;
  const TurnFigures first = figures_after(terminal.screen(), 0);
  EXPECT_EQ(first.prompt, 37);
  EXPECT_EQ(first.reused, 0);
  EXPECT_EQ(first.processed, 37);
  EXPECT_EQ(first.stop, "end token");

  // Turn 2: the cache holds turn 1; only what follows it is processed. Everything of turn 1 is
  // reused but its end token, which the model chose and never had to read.
  mark = terminal.size();
  terminal.type("And of Germany?\n");
  ASSERT_TRUE(terminal.wait_for_turn_end(mark)) << terminal.screen();
  EXPECT_NE(terminal.screen().find("Berlin"), std::string::npos) << terminal.screen();
  const TurnFigures second = figures_after(terminal.screen(), terminal.screen().find("And of Germany?"));
  EXPECT_EQ(second.reused, first.prompt + first.answer - 1) << terminal.screen();
  EXPECT_EQ(second.processed, second.prompt - second.reused);
  EXPECT_GT(second.processed, 5);   // the new question and its headers...
  EXPECT_LT(second.processed, 20);  // ...and nothing of turn 1 again

  mark = terminal.size();
  terminal.type("/stats\n");
  ASSERT_TRUE(terminal.wait_for("all turns: 2 answered", mark)) << terminal.screen();
  EXPECT_NE(terminal.screen().find("4 messages"), std::string::npos) << terminal.screen();

  // Ctrl-C at the prompt stops nothing and quits nothing.
  mark = terminal.size();
  terminal.type("\x03");
  ASSERT_TRUE(terminal.wait_for("no answer to stop", mark)) << terminal.screen();

  mark = terminal.size();
  terminal.type("/reset\n");
  ASSERT_TRUE(terminal.wait_for("(conversation reset", mark)) << terminal.screen();

  // A long answer, stopped by Ctrl-C once it has started to stream.
  mark = terminal.size();
  terminal.type("Write a long story about a dragon who learns to fly.\n");
  const size_t question_end = mark + std::strlen("Write a long story about a dragon who learns to fly.\r\n");
  ASSERT_TRUE(terminal.wait_for_size(question_end + 40)) << terminal.screen();  // some of the answer shown
  terminal.type("\x03");
  ASSERT_TRUE(terminal.wait_for("(answer stopped)", mark)) << terminal.screen();
  ASSERT_TRUE(terminal.wait_for_turn_end(mark)) << terminal.screen();
  const TurnFigures third = figures_after(terminal.screen(), terminal.screen().find("Write a long story"));
  EXPECT_EQ(third.stop, "interrupted");
  EXPECT_GT(third.answer, 0);
  EXPECT_LT(third.answer, 400);
  // After /reset only the template's system prompt is still shared with the cache.
  EXPECT_GT(third.reused, 0);
  EXPECT_LT(third.reused, first.prompt);

  mark = terminal.size();
  terminal.type("/stats\n");
  ASSERT_TRUE(terminal.wait_for("all turns: 3 answered", mark)) << terminal.screen();
  EXPECT_NE(terminal.screen().find("2 messages", mark), std::string::npos) << terminal.screen();

  const std::string final_screen = terminal.screen();
  size_t notes = 0;  // the Ctrl-C that stopped the answer is not seen again at the prompt
  for (size_t at = final_screen.find("no answer to stop"); at != std::string::npos;
       at = final_screen.find("no answer to stop", at + 1))
    ++notes;
  EXPECT_EQ(notes, 1u) << final_screen;

  terminal.type("\x04");  // Ctrl-D on an empty line
  EXPECT_EQ(terminal.wait_exit(), 0) << terminal.screen();
}

}  // namespace
}  // namespace phirun
