// Beam search for one prompt, with the semantics of transformers' beam search (5.x, which keeps
// the rules of its former BeamScorer): at each step the best (1 + end tokens) x num_beams
// continuations of all beams are ranked by summed log-probability; the best num_beams that do
// not end carry on; those among the top num_beams that end (an end token, or max_length
// reached) become hypotheses scored sum / generated_length^length_penalty, of which the best
// num_beams are kept. The search stops when every continuation ends, when num_beams hypotheses
// are done and early_stopping is on, or else when no running beam can beat the worst kept
// hypothesis at its current length. Scores are float32, as transformers computes them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace phirun {

struct BeamSearchOptions {
  int32_t num_beams = 4;
  int32_t num_return_sequences = 1;  // at most num_beams
  float length_penalty = 1.0f;       // > 0 favours longer hypotheses, < 0 shorter ones
  bool early_stopping = true;
  int64_t max_length = 0;  // tokens, prompt included
  std::vector<int32_t> end_token_ids;
};

struct BeamHypothesis {
  std::vector<int32_t> tokens;  // prompt and generated tokens
  float score = 0.0f;           // summed log-probability / generated_length^length_penalty
};

class BeamSearch {
 public:
  // Throws std::runtime_error for options that contradict each other (num_beams outside
  // [1, 32] ... see the checks) or a prompt that leaves no room below max_length.
  BeamSearch(const BeamSearchOptions& options, std::span<const int32_t> prompt);

  int32_t num_beams() const { return options_.num_beams; }
  int64_t length() const { return length_; }  // of every running beam, prompt included
  int64_t prompt_length() const { return prompt_length_; }
  std::span<const int32_t> beam_tokens(int32_t beam) const { return running_[size_t(beam)]; }
  float beam_score(int32_t beam) const { return running_scores_[size_t(beam)]; }

  // One step. log_probs holds [num_beams][vocab_size]: the processed log-probabilities of each
  // running beam's next token (the running scores are added here). Afterwards running beam b
  // is old beam source_beams()[b] followed by next_tokens()[b]. Throws after is_done().
  void step(std::span<const float> log_probs, int64_t vocab_size);
  std::span<const int32_t> source_beams() const { return source_beams_; }
  std::span<const int32_t> next_tokens() const { return next_tokens_; }

  bool is_done() const { return done_; }

  // The best num_return_sequences hypotheses, best first. Before the search is done, running
  // beams stand in for hypotheses not found yet, scored as if they ended now.
  std::vector<BeamHypothesis> results() const;

 private:
  struct Candidate {
    float score;  // running score + log-probability
    int32_t beam;
    int32_t token;
  };
  std::vector<Candidate> top_candidates(std::span<const float> log_probs, int64_t vocab_size, size_t count) const;
  bool is_end_token(int32_t token) const;
  float normalized(float summed_log_prob, int64_t generated_length) const;

  BeamSearchOptions options_;
  int64_t prompt_length_;
  int64_t length_;
  std::vector<std::vector<int32_t>> running_;
  std::vector<float> running_scores_;
  std::vector<BeamHypothesis> finished_;  // best first, at most num_beams
  bool improvement_possible_ = true;
  bool done_ = false;
  std::vector<int32_t> source_beams_, next_tokens_;
};

}  // namespace phirun
