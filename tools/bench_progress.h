// The progress of `phirun bench --precisions` on stderr: what is running, steps done of all, time
// elapsed and an estimate of the time left. On a terminal one line redrawn in place; otherwise
// (a log, a pipe) one plain line per step.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace phirun::cli {

class BenchProgress {
 public:
  struct Step {
    std::string kind;   // steps of one kind take alike: "build", "measure", "perplexity", "probe"
    std::string label;  // "measuring int4 at 2 threads"
  };
  explicit BenchProgress(std::vector<Step> plan, std::FILE* out = stderr);

  void next();                         // the next step of the plan starts
  void tick();                         // redraws the terminal line, at most 10 times a second
  void note(const std::string& line);  // a line of its own above the bar
  void finish();                       // the last step ended: the bar line is closed

  // "about 2:10 left": each step not yet done is assumed to take the mean of the finished steps
  // of its kind (or of all finished steps when none of its kind has finished); negative: unknown.
  double seconds_left() const;

 private:
  std::string status_line() const;
  void draw();
  using Clock = std::chrono::steady_clock;

  std::vector<Step> plan_;
  std::vector<double> durations_;  // of the finished steps, in plan order
  std::FILE* out_;
  bool terminal_;
  size_t current_ = 0;  // 1-based index of the running step; 0 before the first
  Clock::time_point start_ = Clock::now(), step_start_ = start_, last_draw_ = start_;
  bool drawn_ = false;
};

// "1:05" or "1:02:03".
std::string clock_text(double seconds);

}  // namespace phirun::cli
