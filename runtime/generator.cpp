// Generator: the batch of sequences, their KV slots, and one step of the search. Greedy search
// and sampling keep one sequence per slot (here); beam search keeps num_beams slots per prompt
// and reorders them after each step through an index (generator_beams.cpp).
#include "runtime/generator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "search/greedy.h"
#include "search/logits_processors.h"
#include "search/sampling.h"

namespace phirun {

namespace {

int64_t slots_needed(const GeneratorParams& params) {
  return int64_t(params.batch_size) * std::max(params.num_beams, params.num_return_sequences);
}

uint64_t seed_of(const GeneratorParams& params) {
  return params.random_seed < 0 ? SeededRandom::entropy_seed() : uint64_t(params.random_seed);
}

bool contains(std::span<const int32_t> ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

void check_index(int64_t index, int64_t count) {
  if (index < 0 || index >= count)
    throw std::runtime_error("sequence index " + std::to_string(index) + " is outside [0, " + std::to_string(count) +
                             ")");
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::None:
      return "not finished";
    case FinishReason::EndToken:
      return "end token";
    case FinishReason::StopString:
      return "stop string";
    case FinishReason::MaxLength:
      return "max_length";
  }
  return "unknown";
}

namespace {

// The KV cache's positions per sequence, once the model's memory budget is known to hold them
// all (every slot: batch x beams or return sequences).
int64_t kv_capacity_within_budget(const Model& model, const GeneratorParams& params) {
  const int64_t slots = slots_needed(params);
  // A sliding-window model keeps only its window (plus one pass) of positions: the ring.
  const int64_t positions = kv_positions_needed(model.config(), params.max_length);
  model.check_kv_memory(
      double(slots) * double(positions) * double(KvCache::bytes_per_position(model.config(), params.kv_type)),
      "a KV cache of " + std::to_string(slots) + " x " + std::to_string(positions) + " tokens",
      "lower max_length, batch_size or num_beams");
  return positions;
}

}  // namespace

Generator::Generator(const Model& model, const GeneratorParams& params)
    : model_(model),
      params_(resolve_generator_params(params, model)),
      vocab_(model.config().vocab_size),
      kv_cache_(model.config(), params_.kv_type, slots_needed(params_), kv_capacity_within_budget(model, params_)),
      ops_(model.thread_pool(), params_.activations),
      forward_(model.config(), model.weights(), ops_),
      random_(seed_of(params_)) {
  if (beam_mode()) {
    beams_.resize(size_t(params_.batch_size));
    for (size_t g = 0; g < beams_.size(); ++g)
      for (int32_t b = 0; b < params_.num_beams; ++b) beams_[g].slots.push_back(int64_t(g) * params_.num_beams + b);
  } else {
    sequences_.resize(size_t(params_.batch_size) * size_t(params_.num_return_sequences));
    for (size_t i = 0; i < sequences_.size(); ++i) sequences_[i].slot = int64_t(i);
  }
  for (const std::string& stop : params_.stop_strings)
    longest_stop_string_ = std::max(longest_stop_string_, stop.size());
  logits_.assign(size_t(rows()) * size_t(vocab_), std::numeric_limits<float>::quiet_NaN());
}

int64_t Generator::rows() const {
  return int64_t(params_.batch_size) * (beam_mode() ? params_.num_beams : params_.num_return_sequences);
}

void Generator::check_tokens(std::span<const int32_t> tokens) const {
  for (int32_t id : tokens)
    if (id < 0 || id >= vocab_)
      throw std::runtime_error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                               std::to_string(vocab_));
}

void Generator::append_tokens(std::span<const int32_t> tokens) {
  if (params_.batch_size != 1)
    throw std::runtime_error("append_tokens takes the prompt of a batch of one; this generator has batch_size " +
                             std::to_string(params_.batch_size) + ": give one sequence per prompt");
  const std::span<const int32_t> one[1] = {tokens};
  append_token_sequences(one);
}

void Generator::append_token_sequences(std::span<const std::span<const int32_t>> prompts) {
  if (int64_t(prompts.size()) != params_.batch_size)
    throw std::runtime_error("got " + std::to_string(prompts.size()) + " token sequences for a batch_size of " +
                             std::to_string(params_.batch_size));
  for (const auto& tokens : prompts) check_tokens(tokens);
  for (size_t b = 0; b < prompts.size(); ++b) {
    const size_t held = beam_mode() ? beams_[b].search ? beams_[b].search->length() : 0
                                    : sequences_[b * size_t(params_.num_return_sequences)].tokens.size();
    if (int64_t(held + prompts[b].size()) >= params_.max_length)
      throw std::runtime_error("prompt " + std::to_string(b) + " would hold " +
                               std::to_string(held + prompts[b].size()) +
                               " tokens, leaving no room below max_length = " + std::to_string(params_.max_length));
  }
  if (beam_mode()) {
    if (started_) throw std::runtime_error("beam search takes its prompts before the first generated token");
    for (size_t g = 0; g < prompts.size(); ++g) {
      BeamGroup& group = beams_[g];
      std::vector<int32_t> prompt =
          group.search ? std::vector<int32_t>(group.search->beam_tokens(0).begin(), group.search->beam_tokens(0).end())
                       : std::vector<int32_t>();
      prompt.insert(prompt.end(), prompts[g].begin(), prompts[g].end());
      if (prompt.empty()) continue;
      BeamSearchOptions options;
      options.num_beams = params_.num_beams;
      options.num_return_sequences = params_.num_return_sequences;
      options.length_penalty = params_.length_penalty;
      options.early_stopping = params_.early_stopping;
      options.max_length = params_.max_length;
      options.end_token_ids = params_.stop_token_ids;
      group.search = std::make_unique<BeamSearch>(options, prompt);
    }
  } else {
    for (size_t i = 0; i < sequences_.size(); ++i) {
      const auto& tokens = prompts[i / size_t(params_.num_return_sequences)];
      if (tokens.empty()) continue;
      Sequence& sequence = sequences_[i];
      sequence.tokens.insert(sequence.tokens.end(), tokens.begin(), tokens.end());
      sequence.prompt_length = int64_t(sequence.tokens.size());
      sequence.done = false;  // a finished answer goes on with the next turn
      sequence.reason = FinishReason::None;
      sequence.recent_text.clear();
    }
  }
  logits_ready_ = false;
}

bool Generator::is_done() const {
  if (beam_mode()) {
    for (const BeamGroup& group : beams_)
      if (!group.search || !group.search->is_done()) return false;
    return true;
  }
  for (const Sequence& sequence : sequences_)
    if (!sequence.done) return false;
  return true;
}

void Generator::run_forward(std::span<const SequenceChunk> chunks, std::span<const int64_t> slots, float* logits) {
  {
    std::lock_guard<std::mutex> lock(model_.compute_mutex());
    forward_.forward_batch(chunks, logits);
  }
  for (size_t c = 0; c < chunks.size(); ++c) {
    kv_cache_.rows_written(slots[c], chunks[c].start_position + int64_t(chunks[c].tokens.size()));
    tokens_computed_ += int64_t(chunks[c].tokens.size());
  }
  ++forward_passes_;
}

int64_t Generator::cached_prefix(int64_t slot, int64_t n_tokens) {
  const int64_t cached = kv_cache_.length(slot);
  const ModelConfig& config = model_.config();
  // transformers' Phi-3 prepare_inputs_for_generation: the first call that reaches past the
  // original context, with a cache of at most that many (short-rotated) positions, drops it.
  if (params_.long_rope == LongRopePolicy::Reprefill && !config.rope_factors_short.empty() && cached > 0 &&
      cached <= config.rope_original_context && n_tokens > config.rope_original_context) {
    kv_cache_.truncate(slot, 0);
    return 0;
  }
  return cached;
}

void Generator::ensure_logits() {
  if (logits_ready_) return;
  std::fill(logits_.begin(), logits_.end(), std::numeric_limits<float>::quiet_NaN());
  if (beam_mode()) {
    compute_logits_beams();
  } else {
    compute_logits_greedy();
  }
  logits_ready_ = true;
}

void Generator::compute_logits_greedy() {
  std::vector<SequenceChunk> chunks;
  std::vector<int64_t> slots, rows;
  std::vector<std::pair<size_t, size_t>> followers;  // (sequence, the sequence it copies)
  const auto copies = size_t(params_.num_return_sequences);
  for (size_t i = 0; i < sequences_.size(); ++i) {
    Sequence& sequence = sequences_[i];
    if (sequence.done) continue;
    if (sequence.tokens.empty())
      throw std::runtime_error("prompt " + std::to_string(i / copies) + " is empty: append tokens first");
    // The copies of one prompt (num_return_sequences > 1) share it: computed once, then copied.
    const size_t leader = i - i % copies;
    if (leader != i && !sequences_[leader].done && sequences_[leader].tokens == sequence.tokens &&
        kv_cache_.length(sequences_[leader].slot) == kv_cache_.length(sequence.slot)) {
      followers.emplace_back(i, leader);
      continue;
    }
    const int64_t start = cached_prefix(sequence.slot, int64_t(sequence.tokens.size()));
    chunks.push_back({std::span<const int32_t>(sequence.tokens).subspan(size_t(start)), start,
                      kv_cache_.layers(sequence.slot), true, LogitsFor::LastToken});
    slots.push_back(sequence.slot);
    rows.push_back(int64_t(i));
  }
  std::vector<float> computed(chunks.size() * size_t(vocab_));
  if (!chunks.empty()) run_forward(chunks, slots, computed.data());
  for (size_t c = 0; c < rows.size(); ++c)
    std::copy_n(computed.data() + c * size_t(vocab_), vocab_, logits_.data() + size_t(rows[c]) * size_t(vocab_));
  for (const auto& [i, leader] : followers) {
    kv_cache_.copy_sequence(sequences_[leader].slot, sequences_[i].slot, kv_cache_.length(sequences_[leader].slot));
    std::copy_n(logits_.data() + leader * size_t(vocab_), vocab_, logits_.data() + i * size_t(vocab_));
  }
}

std::span<float> Generator::logits() {
  ensure_logits();
  return logits_;
}

void Generator::set_logits(std::span<const float> values) {
  if (values.size() != logits_.size())
    throw std::runtime_error("set_logits: expected " + std::to_string(rows()) + " rows of " + std::to_string(vocab_) +
                             " scores (" + std::to_string(logits_.size()) + " values), got " +
                             std::to_string(values.size()));
  ensure_logits();  // the pending tokens still go through the model, so the cache stays whole
  std::copy(values.begin(), values.end(), logits_.begin());
}

void Generator::generate_next_token() {
  if (is_done())
    throw std::runtime_error("the generator is done: every sequence has finished (append tokens to go on, or rewind)");
  ensure_logits();
  if (beam_mode()) {
    next_token_beams();
  } else {
    next_token_greedy();
  }
  started_ = true;
  logits_ready_ = false;
}

void Generator::finish_if_stopped(Sequence& sequence, int32_t token) {
  if (contains(params_.stop_token_ids, token)) {
    sequence.done = true;
    sequence.reason = FinishReason::EndToken;
    return;
  }
  if (longest_stop_string_ > 0) {
    const std::string_view bytes = model_.tokenizer().token_bytes_view(token);
    sequence.recent_text.append(bytes);
    // A stop string that ends inside the new bytes starts at most longest - 1 bytes before them.
    const size_t from =
        sequence.recent_text.size() - std::min(sequence.recent_text.size(), bytes.size() + longest_stop_string_ - 1);
    for (const std::string& stop : params_.stop_strings) {
      if (sequence.recent_text.find(stop, from) != std::string::npos) {
        sequence.done = true;
        sequence.reason = FinishReason::StopString;
        return;
      }
    }
    if (sequence.recent_text.size() > 4 * longest_stop_string_)
      sequence.recent_text.erase(0, sequence.recent_text.size() - longest_stop_string_);
  }
  if (int64_t(sequence.tokens.size()) >= params_.max_length) {
    sequence.done = true;
    sequence.reason = FinishReason::MaxLength;
  }
}

void Generator::next_token_greedy() {
  const bool greedy = is_greedy(params_);
  std::vector<float> scores(static_cast<size_t>(vocab_));
  for (size_t i = 0; i < sequences_.size(); ++i) {
    Sequence& sequence = sequences_[i];
    if (sequence.done) continue;
    std::copy_n(logits_.data() + i * size_t(vocab_), vocab_, scores.begin());
    // onnxruntime-genai's order: min_length, repetition penalty, no-repeat n-gram; then greedy,
    // or temperature, top-k, top-p and a draw.
    apply_min_length(scores, int64_t(sequence.tokens.size()), params_.min_length, params_.stop_token_ids);
    apply_repetition_penalty(scores, sequence.tokens, params_.repetition_penalty);
    apply_no_repeat_ngram(scores, sequence.tokens, params_.no_repeat_ngram_size);
    int32_t token;
    if (greedy) {
      token = argmax(scores);
    } else {
      apply_temperature(scores, params_.temperature);
      apply_top_k(scores, params_.top_k);
      apply_top_p(scores, params_.top_p);
      token = sample_from_scores(scores, random_);
    }
    sequence.tokens.push_back(token);
    finish_if_stopped(sequence, token);
  }
}

void Generator::rewind_to(int64_t length) {
  if (beam_mode() || sequences_.size() != 1)
    throw std::runtime_error("rewind_to works on a batch of one sequence without beam search");
  Sequence& sequence = sequences_[0];
  if (length < 0 || length > int64_t(sequence.tokens.size()))
    throw std::runtime_error("cannot rewind to " + std::to_string(length) + " tokens: the sequence holds " +
                             std::to_string(sequence.tokens.size()));
  sequence.tokens.resize(size_t(length));
  // The last kept token is computed again: its logits are what the next step needs.
  kv_cache_.truncate(sequence.slot, std::max<int64_t>(0, length - 1));
  sequence.prompt_length = std::min(sequence.prompt_length, length);
  sequence.recent_text.clear();
  sequence.done = length >= params_.max_length;
  sequence.reason = sequence.done ? FinishReason::MaxLength : FinishReason::None;
  logits_ready_ = false;
}

int64_t Generator::sequence_count() const { return int64_t(params_.batch_size) * params_.num_return_sequences; }

std::span<const int32_t> Generator::sequence(int64_t index) const {
  check_index(index, sequence_count());
  if (!beam_mode()) return sequences_[size_t(index)].tokens;
  const BeamGroup& group = beams_[size_t(index / params_.num_return_sequences)];
  const auto rank = size_t(index % params_.num_return_sequences);
  if (!group.search) return {};
  if (group.search->is_done()) return group.results[rank].tokens;
  return group.search->beam_tokens(int32_t(rank));
}

int64_t Generator::prompt_length(int64_t index) const {
  check_index(index, sequence_count());
  if (!beam_mode()) return sequences_[size_t(index)].prompt_length;
  const BeamGroup& group = beams_[size_t(index / params_.num_return_sequences)];
  return group.search ? group.search->prompt_length() : 0;
}

bool Generator::is_sequence_done(int64_t index) const {
  check_index(index, sequence_count());
  if (!beam_mode()) return sequences_[size_t(index)].done;
  const BeamGroup& group = beams_[size_t(index / params_.num_return_sequences)];
  return group.search && group.search->is_done();
}

FinishReason Generator::finish_reason(int64_t index) const {
  check_index(index, sequence_count());
  if (!beam_mode()) return sequences_[size_t(index)].reason;
  if (!is_sequence_done(index)) return FinishReason::None;
  const std::span<const int32_t> tokens = sequence(index);
  return !tokens.empty() && contains(params_.stop_token_ids, tokens.back()) ? FinishReason::EndToken
                                                                            : FinishReason::MaxLength;
}

float Generator::sequence_score(int64_t index) const {
  check_index(index, sequence_count());
  if (!beam_mode()) throw std::runtime_error("sequence scores exist only for beam search (num_beams > 1)");
  const BeamGroup& group = beams_[size_t(index / params_.num_return_sequences)];
  const auto rank = size_t(index % params_.num_return_sequences);
  if (!group.search) throw std::runtime_error("sequence " + std::to_string(index) + " has no prompt yet");
  if (group.search->is_done()) return group.results[rank].score;
  const std::vector<BeamHypothesis> best = group.search->results();
  return rank < best.size() ? best[rank].score : std::numeric_limits<float>::quiet_NaN();
}

}  // namespace phirun
