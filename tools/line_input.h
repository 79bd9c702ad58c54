// Lines from standard input read with poll(2) and read(2), so that a Ctrl-C while waiting for a line
// ends the wait (std::getline would sit in a restarted read), and messages typed over several
// lines: a line ending in a backslash continues on the next, and a line of three double quotes
// (""") opens a block that the next such line closes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace phirun::cli {

enum class InputResult { Line, End, Interrupted, TooLong };

class LineInput {
 public:
  // `interrupt` is the flag the SIGINT handler sets.
  LineInput(int fd, const std::atomic<bool>& interrupt) : fd_(fd), interrupt_(interrupt) {}

  // One line without its '\n' (nor a '\r' before it). End at the end of input (Ctrl-D on an
  // empty line of a terminal); Interrupted when the flag was set while waiting (the partial line
  // is dropped); TooLong for a line past kMaxLineBytes (the rest of it is skipped).
  InputResult read_line(std::string& line);

  // One message: a line, or several joined by '\n' as the header describes. `continuation` is
  // printed before each further line when not empty (the terminal's "... " prompt).
  InputResult read_message(std::string& message, const char* continuation);

  int64_t line_number() const { return line_number_; }

  static constexpr size_t kMaxLineBytes = size_t(8) << 20;

 private:
  bool fill();  // reads more bytes into buffer_; false at the end of input or on an interrupt

  int fd_;
  const std::atomic<bool>& interrupt_;
  std::string buffer_;
  bool at_end_ = false;
  bool interrupted_ = false;
  int64_t line_number_ = 0;
};

}  // namespace phirun::cli
