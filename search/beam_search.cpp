// Beam search, step by step as transformers' _beam_search does it (generation/utils.py: top-k
// continuations, running beams for the next iteration, finished-beam update, early-stop
// heuristic), for one prompt. Where transformers marks an unavailable entry by adding -1e9 to
// its float32 score, so does this code, so that the same comparisons come out the same way.
#include "search/beam_search.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <stdexcept>
#include <string>

namespace phirun {

namespace {

constexpr float kUnavailable = -1.0e9f;  // transformers' marker for "cannot be chosen"
constexpr int32_t kMaxBeams = 32;

}  // namespace

BeamSearch::BeamSearch(const BeamSearchOptions& options, std::span<const int32_t> prompt)
    : options_(options), prompt_length_(int64_t(prompt.size())), length_(int64_t(prompt.size())) {
  if (options.num_beams < 1 || options.num_beams > kMaxBeams)
    throw std::runtime_error("num_beams = " + std::to_string(options.num_beams) + " is outside [1, " +
                             std::to_string(kMaxBeams) + "]");
  if (options.num_return_sequences < 1 || options.num_return_sequences > options.num_beams)
    throw std::runtime_error("num_return_sequences = " + std::to_string(options.num_return_sequences) +
                             " must be between 1 and num_beams = " + std::to_string(options.num_beams));
  if (!std::isfinite(options.length_penalty)) throw std::runtime_error("length_penalty must be a finite number");
  if (prompt.empty()) throw std::runtime_error("beam search needs a prompt of at least one token");
  if (options.max_length <= prompt_length_)
    throw std::runtime_error("max_length = " + std::to_string(options.max_length) +
                             " leaves no room to generate after a prompt of " + std::to_string(prompt_length_) +
                             " tokens");
  running_.assign(size_t(options.num_beams), std::vector<int32_t>(prompt.begin(), prompt.end()));
  // Only the first beam is live at the start: the others are copies of it, and scoring them
  // -1e9 keeps the first step from choosing the same continuation num_beams times.
  running_scores_.assign(size_t(options.num_beams), kUnavailable);
  running_scores_[0] = 0.0f;
}

bool BeamSearch::is_end_token(int32_t token) const {
  return std::find(options_.end_token_ids.begin(), options_.end_token_ids.end(), token) != options_.end_token_ids.end();
}

float BeamSearch::normalized(float summed_log_prob, int64_t generated_length) const {
  // Python computes length ** penalty in double; the float32 tensor division rounds it to float.
  const auto divisor = float(std::pow(double(generated_length), double(options_.length_penalty)));
  return summed_log_prob / divisor;
}

std::vector<BeamSearch::Candidate> BeamSearch::top_candidates(std::span<const float> log_probs, int64_t vocab_size,
                                                              size_t count) const {
  // Ranked by score, ties to the lower flat index (beam * vocab + token), NaN never chosen.
  auto better = [vocab_size](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    return int64_t(a.beam) * vocab_size + a.token < int64_t(b.beam) * vocab_size + b.token;
  };
  // A heap whose top is the worst of the best `count` seen so far.
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(better)> best(better);
  for (int32_t beam = 0; beam < options_.num_beams; ++beam) {
    const float* row = log_probs.data() + int64_t(beam) * vocab_size;
    const float running = running_scores_[size_t(beam)];
    for (int64_t token = 0; token < vocab_size; ++token) {
      const Candidate candidate{row[token] + running, beam, int32_t(token)};
      if (std::isnan(candidate.score)) continue;
      if (best.size() < count) {
        best.push(candidate);
      } else if (better(candidate, best.top())) {
        best.pop();
        best.push(candidate);
      }
    }
  }
  std::vector<Candidate> ranked;
  ranked.reserve(best.size());
  for (; !best.empty(); best.pop()) ranked.push_back(best.top());
  std::reverse(ranked.begin(), ranked.end());
  return ranked;
}

void BeamSearch::step(std::span<const float> log_probs, int64_t vocab_size) {
  if (done_) throw std::runtime_error("beam search: step after the search is done");
  const auto num_beams = size_t(options_.num_beams);
  if (vocab_size <= 0 || log_probs.size() != num_beams * size_t(vocab_size))
    throw std::runtime_error("beam search: expected " + std::to_string(num_beams) + " rows of " +
                             std::to_string(vocab_size) + " log-probabilities, got " +
                             std::to_string(log_probs.size()) + " values");

  // Keep enough continuations that num_beams remain even if every beam's best ones end.
  const size_t keep =
      std::min(std::max<size_t>(2, 1 + options_.end_token_ids.size()) * num_beams, num_beams * size_t(vocab_size));
  const std::vector<Candidate> candidates = top_candidates(log_probs, vocab_size, keep);
  if (candidates.size() < num_beams) throw std::runtime_error("beam search: the log-probabilities are all NaN");
  std::vector<bool> ends(candidates.size());
  bool all_end = true;
  for (size_t k = 0; k < candidates.size(); ++k) {
    ends[k] = is_end_token(candidates[k].token) || length_ + 1 >= options_.max_length;
    all_end = all_end && ends[k];
  }

  // Hypotheses: only the top num_beams continuations may finish; each is scored by its length.
  const bool finished_full = finished_.size() == num_beams;
  if (!(finished_full && options_.early_stopping)) {
    const int64_t generated = length_ + 1 - prompt_length_;
    for (size_t k = 0; k < num_beams && k < candidates.size(); ++k) {
      if (!ends[k]) continue;
      BeamHypothesis hypothesis{running_[size_t(candidates[k].beam)], normalized(candidates[k].score, generated)};
      hypothesis.tokens.push_back(candidates[k].token);
      // After the hypotheses already kept with an equal score, as torch.topk over the
      // concatenation (kept first) ranks them.
      auto place = std::upper_bound(finished_.begin(), finished_.end(), hypothesis.score,
                                    [](float score, const BeamHypothesis& kept) { return score > kept.score; });
      finished_.insert(place, std::move(hypothesis));
      if (finished_.size() > num_beams) finished_.pop_back();
    }
  }

  // Running beams: the best num_beams continuations that do not end (ended ones are marked
  // unavailable and come last).
  std::vector<float> adjusted(candidates.size());
  for (size_t k = 0; k < candidates.size(); ++k) adjusted[k] = candidates[k].score + (ends[k] ? kUnavailable : 0.0f);
  std::vector<size_t> order(candidates.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return adjusted[a] > adjusted[b]; });
  std::vector<std::vector<int32_t>> next_running(num_beams);
  std::vector<float> next_scores(num_beams);
  source_beams_.resize(num_beams);
  next_tokens_.resize(num_beams);
  for (size_t b = 0; b < num_beams; ++b) {
    const Candidate& chosen = candidates[order[b]];
    next_running[b] = running_[size_t(chosen.beam)];
    next_running[b].push_back(chosen.token);
    next_scores[b] = adjusted[order[b]];
    source_beams_[b] = chosen.beam;
    next_tokens_[b] = chosen.token;
  }
  running_ = std::move(next_running);
  running_scores_ = std::move(next_scores);
  ++length_;

  // Can a running beam still beat the worst kept hypothesis? transformers' heuristic (for
  // early_stopping false) judges the best running beam at its current length.
  if (finished_.size() == num_beams) {
    const float best_possible = normalized(running_scores_[0], length_ - prompt_length_);
    improvement_possible_ = improvement_possible_ && best_possible > finished_.back().score;
  }
  const bool enough_finished = finished_.size() == num_beams && options_.early_stopping;
  done_ = !improvement_possible_ || enough_finished || all_end;
}

std::vector<BeamHypothesis> BeamSearch::results() const {
  std::vector<BeamHypothesis> results = finished_;
  if (results.size() < size_t(options_.num_return_sequences)) {
    for (size_t b = 0; b < running_.size(); ++b) {
      if (running_scores_[b] <= kUnavailable || length_ == prompt_length_) continue;
      results.push_back({running_[b], normalized(running_scores_[b], length_ - prompt_length_)});
    }
    std::stable_sort(results.begin(), results.end(),
                     [](const BeamHypothesis& a, const BeamHypothesis& b) { return a.score > b.score; });
  }
  results.resize(std::min(results.size(), size_t(options_.num_return_sequences)));
  return results;
}

}  // namespace phirun
