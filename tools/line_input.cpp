// LineInput: a buffer over read(2); poll(2) waits, since poll returns EINTR on a signal even when
// the handler was installed with SA_RESTART (which keeps stdout's writes from failing).
#include "tools/line_input.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace phirun::cli {

bool LineInput::fill() {
  if (at_end_) return false;
  pollfd wait{fd_, POLLIN, 0};
  while (true) {
    if (interrupt_.load()) {
      interrupted_ = true;
      return false;
    }
    const int ready = ::poll(&wait, 1, -1);
    if (ready < 0 && errno == EINTR) continue;  // the loop checks the flag
    if (ready < 0) break;
    char chunk[65536];
    const ssize_t got = ::read(fd_, chunk, sizeof chunk);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;
    buffer_.append(chunk, size_t(got));
    return true;
  }
  at_end_ = true;
  return false;
}

InputResult LineInput::read_line(std::string& line) {
  line.clear();
  bool too_long = false;
  size_t searched = 0;
  while (true) {
    const size_t newline = buffer_.find('\n', searched);
    if (newline != std::string::npos) {
      if (!too_long) line.assign(buffer_, 0, newline);
      buffer_.erase(0, newline + 1);
      break;
    }
    searched = buffer_.size();
    if (buffer_.size() > kMaxLineBytes) {  // keep reading to the end of the line, keeping nothing
      too_long = true;
      buffer_.clear();
      searched = 0;
    }
    if (!fill()) {
      if (interrupted_) {
        interrupted_ = false;
        buffer_.clear();
        return InputResult::Interrupted;
      }
      if (buffer_.empty() && !too_long) return InputResult::End;
      if (!too_long) line = std::move(buffer_);  // a last line without a newline
      buffer_.clear();
      break;
    }
  }
  ++line_number_;
  if (too_long) return InputResult::TooLong;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return InputResult::Line;
}

InputResult LineInput::read_message(std::string& message, const char* continuation) {
  const auto prompt = [&] {
    if (continuation && *continuation) {
      std::fputs(continuation, stdout);
      std::fflush(stdout);
    }
  };
  InputResult result = read_line(message);
  if (result != InputResult::Line) return result;
  std::string line;
  if (message == "\"\"\"") {
    message.clear();
    for (bool first = true;; first = false) {
      prompt();
      result = read_line(line);
      if (result != InputResult::Line) return result;
      if (line == "\"\"\"") return InputResult::Line;
      message += (first ? "" : "\n") + line;
    }
  }
  while (!message.empty() && message.back() == '\\') {
    message.back() = '\n';
    prompt();
    result = read_line(line);
    if (result != InputResult::Line) return result;
    message += line;
  }
  return InputResult::Line;
}

}  // namespace phirun::cli
