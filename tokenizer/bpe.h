// Byte-pair merging within one word: repeatedly merge the adjacent pair of lowest rank (leftmost
// first on ties) until no pair has a merge, as Hugging Face's BPE model does without dropout.
// O(n log n) per word with a priority queue, so a pathological megabyte-long word stays fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace phirun {

class BpeMerges {
 public:
  // Registers the merge (left, right) -> result. A pair registered twice keeps its first (lower)
  // rank, as llama.cpp does.
  void add(int32_t left, int32_t right, int32_t result, int32_t rank);

  // Merges the token ids of a word in place; `ids` starts as one id per byte-level character.
  void apply(std::vector<int32_t>& ids) const;

  size_t size() const { return merges_.size(); }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  const Merge* find(int32_t left, int32_t right) const {
    const auto found = merges_.find(pair_key(left, right));
    return found == merges_.end() ? nullptr : &found->second;
  }

  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace phirun
