// The processors, transcribed from the rules of transformers' logits_process.py. Probabilities
// are computed in double, so the only differences from the float32 reference are at exact
// boundaries (a cumulative probability within rounding of 1 - top_p).
#include "search/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace phirun {

namespace {

constexpr float kRemoved = -std::numeric_limits<float>::infinity();

}  // namespace

void apply_min_length(std::span<float> scores, int64_t sequence_length, int64_t min_length,
                      std::span<const int32_t> end_token_ids) {
  if (sequence_length >= min_length) return;
  for (int32_t id : end_token_ids)
    if (id >= 0 && size_t(id) < scores.size()) scores[size_t(id)] = kRemoved;
}

void apply_repetition_penalty(std::span<float> scores, std::span<const int32_t> sequence, float penalty) {
  if (penalty == 1.0f) return;
  // Each id once: transformers gathers the original score of every occurrence and scatters the
  // same penalized value back, so a token seen twice is penalized once.
  std::vector<int32_t> ids(sequence.begin(), sequence.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (int32_t id : ids) {
    if (id < 0 || size_t(id) >= scores.size()) continue;
    float& score = scores[size_t(id)];
    score = score < 0 ? score * penalty : score / penalty;
  }
}

void apply_no_repeat_ngram(std::span<float> scores, std::span<const int32_t> sequence, int64_t ngram_size) {
  const auto length = int64_t(sequence.size());
  if (ngram_size <= 0 || length + 1 < ngram_size) return;
  // The last n-1 tokens; every earlier place they occur bans the token that followed them.
  const int64_t prefix_length = ngram_size - 1;
  const int32_t* prefix = sequence.data() + (length - prefix_length);
  for (int64_t start = 0; start + ngram_size <= length; ++start) {
    if (!std::equal(prefix, prefix + prefix_length, sequence.data() + start)) continue;
    const int32_t banned = sequence[size_t(start + prefix_length)];
    if (banned >= 0 && size_t(banned) < scores.size()) scores[size_t(banned)] = kRemoved;
  }
}

void apply_temperature(std::span<float> scores, float temperature) {
  if (temperature == 1.0f) return;
  for (float& score : scores) score /= temperature;
}

void apply_top_k(std::span<float> scores, int64_t top_k) {
  if (top_k <= 0 || size_t(top_k) >= scores.size()) return;
  std::vector<float> sorted(scores.begin(), scores.end());
  std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(), std::greater<float>());
  const float kth_largest = sorted[size_t(top_k - 1)];
  for (float& score : scores)
    if (score < kth_largest) score = kRemoved;
}

void apply_top_p(std::span<float> scores, float top_p) {
  if (top_p >= 1.0f || scores.empty()) return;
  // transformers removes a token when the ascending cumulative probability up to and including
  // it is <= 1 - top_p, i.e. when the probability of the tokens above it is >= top_p. Walking
  // down from the most likely token only needs the head of the sorted order: sort a prefix,
  // widen it while the probability it holds is still short of top_p.
  const double max_score = *std::max_element(scores.begin(), scores.end());
  if (!std::isfinite(max_score)) return;  // nothing left to choose from, or a NaN upstream
  double total = 0.0;
  for (float score : scores) total += std::exp(double(score) - max_score);

  std::vector<int32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  // Equal scores: the higher id counts as the more likely, as in torch's stable ascending sort.
  auto higher = [&](int32_t a, int32_t b) {
    return scores[size_t(a)] > scores[size_t(b)] || (scores[size_t(a)] == scores[size_t(b)] && a > b);
  };
  size_t sorted = 0;
  size_t kept = 0;
  double above = 0.0;  // probability of the tokens before position `kept`
  for (size_t width = 64;; width *= 2) {
    width = std::min(width, order.size());
    std::partial_sort(order.begin() + ptrdiff_t(sorted), order.begin() + ptrdiff_t(width), order.end(), higher);
    sorted = width;
    while (kept < sorted && above < double(top_p)) {
      above += std::exp(double(scores[size_t(order[kept])]) - max_score) / total;
      ++kept;
    }
    if (above >= double(top_p) || sorted == order.size()) break;
  }
  for (size_t i = kept; i < order.size(); ++i) scores[size_t(order[i])] = kRemoved;
}

void log_softmax(std::span<float> scores) {
  if (scores.empty()) return;
  const float max_score = *std::max_element(scores.begin(), scores.end());
  double total = 0.0;
  for (float score : scores) total += std::exp(double(score) - double(max_score));
  const float log_total = float(std::log(total));
  for (float& score : scores) score = (score - max_score) - log_total;
}

}  // namespace phirun
