// The merge loop keeps the word as a linked list of symbols and a min-heap of candidate pairs
// ordered by (rank, position). Entries go stale when a neighbour merges; they are recognised and
// dropped when popped (the ids they recorded no longer sit at that position).
#include "tokenizer/bpe.h"

#include <algorithm>
#include <queue>

namespace phirun {
namespace {

struct Candidate {
  int32_t rank;
  int32_t position;  // index of the left symbol; symbols merge into their left one
  int32_t left;
  int32_t right;
  int32_t result;

  // std::priority_queue is a max-heap: "less" means later, so the top is the lowest rank,
  // then the leftmost position.
  bool operator<(const Candidate& other) const {
    if (rank != other.rank) return rank > other.rank;
    return position > other.position;
  }
};

constexpr int32_t kRemoved = -1;

}  // namespace

void BpeMerges::add(int32_t left, int32_t right, int32_t result, int32_t rank) {
  merges_.try_emplace(pair_key(left, right), Merge{rank, result});
}

void BpeMerges::apply(std::vector<int32_t>& ids) const {
  const auto count = static_cast<int32_t>(ids.size());
  if (count < 2) return;

  // next[i] == count: no right neighbour; prev[i] == -1: no left neighbour.
  std::vector<int32_t> prev(count), next(count);
  for (int32_t i = 0; i < count; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1;
  }

  std::vector<Candidate> heap_storage;
  heap_storage.reserve(count);
  std::priority_queue<Candidate> heap(std::less<Candidate>(), std::move(heap_storage));
  auto push_pair = [&](int32_t position) {
    const int32_t right_position = next[position];
    if (right_position >= count) return;
    if (const Merge* merge = find(ids[position], ids[right_position])) {
      heap.push({merge->rank, position, ids[position], ids[right_position], merge->result});
    }
  };
  for (int32_t i = 0; i + 1 < count; ++i) push_pair(i);

  while (!heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    // Still valid only if the same two ids are still adjacent at this position.
    if (ids[top.position] != top.left) continue;
    const int32_t right_position = next[top.position];
    if (right_position >= count || ids[right_position] != top.right) continue;

    ids[top.position] = top.result;
    ids[right_position] = kRemoved;
    next[top.position] = next[right_position];
    if (next[right_position] < count) prev[next[right_position]] = top.position;

    if (prev[top.position] >= 0) push_pair(prev[top.position]);
    push_pair(top.position);
  }

  ids.erase(std::remove(ids.begin(), ids.end(), kRemoved), ids.end());
}

}  // namespace phirun
