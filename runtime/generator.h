// The generate loop behind the API, shaped like onnxruntime-genai's Generator: append prompt
// tokens, then generate_next_token() until is_done(). One Generator runs a batch of prompts of
// different lengths through one forward pass per step (each sequence finishing on its own),
// by greedy search, sampling or beam search, over a KV cache of its own. Several Generators may
// share one Model from several threads; one Generator is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "models/llama.h"
#include "runtime/generator_params.h"
#include "runtime/kv_cache.h"
#include "runtime/model.h"
#include "search/beam_search.h"
#include "search/random.h"

namespace phirun {

enum class FinishReason { None, EndToken, StopString, MaxLength };
const char* finish_reason_name(FinishReason reason);

class Generator {
 public:
  // Checks the parameters (resolve_generator_params) and allocates the KV cache for
  // batch_size x max(num_beams, num_return_sequences) sequences of max_length tokens.
  // Throws std::runtime_error naming the problem.
  Generator(const Model& model, const GeneratorParams& params);

  const GeneratorParams& params() const { return params_; }

  // Adds tokens to the one prompt of a batch of one (and, after a finished answer, starts the
  // next turn: the cache keeps everything before, only the new tokens are computed).
  void append_tokens(std::span<const int32_t> tokens);
  // One token sequence per prompt of the batch (batch_size of them, any lengths, an empty one
  // adds nothing to its prompt). Beam search takes its prompts once, before the first token.
  void append_token_sequences(std::span<const std::span<const int32_t>> sequences);

  // Chooses the next token of every unfinished sequence. Throws when is_done().
  void generate_next_token();
  bool is_done() const;

  // The scores of the next token before any processing: [rows][vocab] with one row per
  // sequence (greedy, sampling) or per running beam (row = prompt * num_beams + beam); rows of
  // finished sequences hold NaN. Computes them if the last step has not. The caller may change
  // them in place (a custom logits processor) before generate_next_token().
  std::span<float> logits();
  // Replaces those scores (rows x vocab values).
  void set_logits(std::span<const float> values);
  int64_t vocab_size() const { return vocab_; }

  // Drops every token from `length` on (batch of one, no beam search). The cache keeps the
  // tokens before; the next step recomputes only the last kept one.
  void rewind_to(int64_t length);

  // Results: batch_size x num_return_sequences sequences, prompt i's at i * num_return_sequences.
  // With beam search, the best hypotheses once done (the best running beams until then).
  int64_t sequence_count() const;
  std::span<const int32_t> sequence(int64_t index) const;
  int64_t prompt_length(int64_t index) const;
  bool is_sequence_done(int64_t index) const;
  FinishReason finish_reason(int64_t index) const;
  // Beam search only: sum of log-probabilities / generated_length^length_penalty.
  float sequence_score(int64_t index) const;

  // What was computed so far (statistics, tests).
  int64_t forward_passes() const { return forward_passes_; }
  int64_t tokens_computed() const { return tokens_computed_; }
  const KvCache& kv_cache() const { return kv_cache_; }

 private:
  struct Sequence {
    std::vector<int32_t> tokens;
    int64_t slot = 0;
    int64_t prompt_length = 0;
    bool done = false;
    FinishReason reason = FinishReason::None;
    std::string recent_text;  // the tail of the generated text, for stop strings
  };
  struct BeamGroup {
    std::unique_ptr<BeamSearch> search;
    std::vector<int64_t> slots;  // the KV slot of each running beam
    bool started = false;
    std::vector<BeamHypothesis> results;  // once the search is done
  };

  bool beam_mode() const { return params_.num_beams > 1; }
  int64_t rows() const;
  void check_tokens(std::span<const int32_t> tokens) const;
  void ensure_logits();
  void compute_logits_greedy();
  void compute_logits_beams();
  void run_forward(std::span<const SequenceChunk> chunks, std::span<const int64_t> slots, float* logits);
  void next_token_greedy();
  void next_token_beams();
  void finish_if_stopped(Sequence& sequence, int32_t token);
  void reorder_beam_slots(BeamGroup& group);

  const Model& model_;
  GeneratorParams params_;
  int64_t vocab_;
  KvCache kv_cache_;
  // The positions of `slot` to keep before running its `n_tokens` tokens: the cached ones, or
  // none when a LongRoPE re-prefill is due (GeneratorParams::long_rope).
  int64_t cached_prefix(int64_t slot, int64_t n_tokens);
  CpuOps ops_;
  LlamaForward forward_;
  SeededRandom random_;
  std::vector<Sequence> sequences_;  // greedy and sampling: batch_size x num_return_sequences
  std::vector<BeamGroup> beams_;     // beam search: one group per prompt
  std::vector<float> logits_;
  bool logits_ready_ = false;
  bool started_ = false;  // a token has been generated
  size_t longest_stop_string_ = 0;
  int64_t forward_passes_ = 0;
  int64_t tokens_computed_ = 0;
};

}  // namespace phirun
