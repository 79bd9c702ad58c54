// The bench progress line: "[#####.......] 5/17 measuring int8 at 2 threads | 1:23 elapsed,
// about 2:10 left". The estimate learns from the steps already finished, per kind of step.
#include "tools/bench_progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace phirun::cli {

std::string clock_text(double seconds) {
  const long total = std::lround(std::max(seconds, 0.0));
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

BenchProgress::BenchProgress(std::vector<Step> plan, std::FILE* out)
    : plan_(std::move(plan)), out_(out), terminal_(::isatty(::fileno(out)) != 0) {}

void BenchProgress::next() {
  const auto now = Clock::now();
  if (current_ > 0) durations_.push_back(std::chrono::duration<double>(now - step_start_).count());
  step_start_ = now;
  if (current_ < plan_.size()) ++current_;
  if (terminal_) {
    draw();
  } else {
    std::fprintf(out_, "phirun: %s\n", status_line().c_str());
    std::fflush(out_);
  }
}

void BenchProgress::tick() {
  if (terminal_ && current_ > 0 && Clock::now() - last_draw_ > std::chrono::milliseconds(100)) draw();
}

void BenchProgress::draw() {
  last_draw_ = Clock::now();
  // Cut to the terminal's width: a wrapped line could not be redrawn in place.
  std::string line = status_line();
  winsize size{};
  if (::ioctl(::fileno(out_), TIOCGWINSZ, &size) == 0 && size.ws_col > 1 && line.size() >= size.ws_col)
    line.resize(size.ws_col - 1);
  std::fprintf(out_, "\r\033[K%s", line.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void BenchProgress::note(const std::string& line) {
  if (drawn_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "phirun: %s\n", line.c_str());
  drawn_ = false;
  if (terminal_ && current_ > 0) draw();
}

void BenchProgress::finish() {
  if (drawn_) std::fprintf(out_, "\n");
  drawn_ = false;
}

double BenchProgress::seconds_left() const {
  if (durations_.empty()) return -1;
  std::map<std::string, std::pair<double, int>> by_kind;  // total seconds and count
  double all = 0;
  for (size_t i = 0; i < durations_.size(); ++i) {
    by_kind[plan_[i].kind].first += durations_[i];
    by_kind[plan_[i].kind].second += 1;
    all += durations_[i];
  }
  auto expected = [&](const std::string& kind) {
    const auto found = by_kind.find(kind);
    return found != by_kind.end() ? found->second.first / found->second.second : all / double(durations_.size());
  };
  double left = 0;
  for (size_t i = durations_.size(); i < plan_.size(); ++i) left += expected(plan_[i].kind);
  if (current_ > durations_.size())  // the running step is partly done
    left -=
        std::min(expected(plan_[current_ - 1].kind), std::chrono::duration<double>(Clock::now() - step_start_).count());
  return left;
}

std::string BenchProgress::status_line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double left = seconds_left();
  const std::string what = current_ > 0 ? plan_[current_ - 1].label : "starting";
  std::string times = clock_text(elapsed);
  times += " elapsed, ";
  times += left < 0 ? std::string("time left unknown yet") : "about " + clock_text(left) + " left";
  char counts[48];
  std::snprintf(counts, sizeof counts, "%zu/%zu", current_, plan_.size());
  std::string line;
  if (!terminal_) {
    line.append("[").append(counts).append("] ").append(what).append(" (").append(times).append(")");
    return line;
  }
  constexpr size_t kWidth = 20;
  const size_t filled = plan_.empty() ? kWidth : kWidth * durations_.size() / plan_.size();
  line.append("[").append(filled, '#').append(kWidth - filled, '.').append("] ");
  line.append(counts).append(" ").append(what).append(" | ").append(times);
  return line;
}

}  // namespace phirun::cli
