// Streamed text with stop strings cut out: what may be the start of a stop string is held back
// until the next piece shows whether it is one.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace phirun::cli {

// Streams text but holds back what may be the start of a stop string, and cuts the text where
// one appears.
class StopStringFilter {
 public:
  explicit StopStringFilter(const std::vector<std::string>& stops) : stops_(stops) {}

  // Returns the text that can be shown now; sets stopped once a stop string has appeared.
  std::string push(const std::string& text) {
    held_ += text;
    for (const std::string& stop : stops_) {
      const size_t at = held_.find(stop);
      if (at != std::string::npos) {
        stopped_ = true;
        std::string shown = held_.substr(0, at);
        held_.clear();
        return shown;
      }
    }
    size_t keep = 0;  // the longest tail of held_ that begins some stop string
    for (const std::string& stop : stops_)
      for (size_t n = std::min(stop.size() - 1, held_.size()); n > keep; --n)
        if (held_.compare(held_.size() - n, n, stop, 0, n) == 0) {
          keep = n;
          break;
        }
    std::string shown = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return shown;
  }
  std::string flush() { return stopped_ ? std::string() : std::exchange(held_, std::string()); }
  bool stopped() const { return stopped_; }

 private:
  const std::vector<std::string>& stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace phirun::cli
