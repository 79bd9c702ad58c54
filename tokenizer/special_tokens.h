// Finds special-token texts (<|im_start|>, ...) inside text, the way Hugging Face splits input
// on its added tokens before pre-tokenizing: leftmost match first, longest match at a position.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phirun {

class SpecialTokenMatcher {
 public:
  struct Match {
    size_t offset;  // byte offset in the text
    size_t length;  // bytes
    int32_t id;
  };

  // Registers a token text (not empty). A text registered twice keeps its first id.
  void add(std::string_view text, int32_t id);

  // The first special token in `text` at or after byte `from`; among tokens starting at the same
  // offset, the longest.
  std::optional<Match> find_next(std::string_view text, size_t from) const;

  bool empty() const { return count_ == 0; }

 private:
  struct Entry {
    std::string text;
    int32_t id;
  };
  // Candidates by first byte, longest first, so the first that matches is the longest.
  std::array<std::vector<Entry>, 256> by_first_byte_;
  size_t count_ = 0;
};

}  // namespace phirun
