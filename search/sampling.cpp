// Inverse-CDF sampling over the softmax of the scores.
#include "search/sampling.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace phirun {

int32_t sample_from_scores(std::span<const float> scores, SeededRandom& random) {
  if (scores.empty()) throw std::runtime_error("sampling: no scores to sample from");
  const float max_score = *std::max_element(scores.begin(), scores.end());
  if (!std::isfinite(max_score))
    throw std::runtime_error(std::isnan(max_score) ? "sampling: the scores hold NaN"
                                                   : "sampling: every token was removed by the logits processors");
  double total = 0.0;
  for (float score : scores) total += std::exp(double(score) - double(max_score));
  const double target = random.uniform() * total;
  double cumulative = 0.0;
  int32_t last_possible = 0;
  for (size_t id = 0; id < scores.size(); ++id) {
    const double weight = std::exp(double(scores[id]) - double(max_score));
    if (weight == 0.0) continue;
    cumulative += weight;
    last_possible = int32_t(id);
    if (target < cumulative) return int32_t(id);
  }
  // Rounding left the target at the very top of the range: the last token that could be drawn.
  return last_possible;
}

}  // namespace phirun
