// Generator, beam search: the logits of every running beam (the prompt once per group), one
// step of each group's BeamSearch, and the reordering of the KV slots behind the beams.
#include <algorithm>

#include "runtime/generator.h"
#include "search/logits_processors.h"

namespace phirun {

void Generator::compute_logits_beams() {
  std::vector<SequenceChunk> chunks;
  std::vector<int64_t> slots, rows;
  std::vector<size_t> fresh_groups;  // groups whose first step is next: every beam is the prompt
  for (size_t g = 0; g < beams_.size(); ++g) {
    BeamGroup& group = beams_[g];
    if (!group.search) throw std::runtime_error("prompt " + std::to_string(g) + " is empty: append tokens first");
    if (group.search->is_done()) continue;
    const int32_t live_beams = group.started ? params_.num_beams : 1;
    if (!group.started) fresh_groups.push_back(g);
    for (int32_t b = 0; b < live_beams; ++b) {
      const int64_t slot = group.slots[size_t(b)];
      const int64_t start = cached_prefix(slot, int64_t(group.search->beam_tokens(b).size()));
      chunks.push_back({group.search->beam_tokens(b).subspan(size_t(start)), start, kv_cache_.layers(slot), true,
                        LogitsFor::LastToken});
      slots.push_back(slot);
      rows.push_back(int64_t(g) * params_.num_beams + b);
    }
  }
  std::vector<float> computed(chunks.size() * size_t(vocab_));
  if (!chunks.empty()) run_forward(chunks, slots, computed.data());
  for (size_t c = 0; c < rows.size(); ++c)
    std::copy_n(computed.data() + c * size_t(vocab_), vocab_, logits_.data() + size_t(rows[c]) * size_t(vocab_));
  // Before the first step all beams are the prompt: the other rows repeat beam 0's (their
  // scores start at -1e9, as in transformers, so they only matter as copies).
  for (size_t g : fresh_groups) {
    float* first = logits_.data() + g * size_t(params_.num_beams) * size_t(vocab_);
    for (int32_t b = 1; b < params_.num_beams; ++b) std::copy_n(first, vocab_, first + size_t(b) * size_t(vocab_));
  }
}

void Generator::next_token_beams() {
  std::vector<float> log_probs(size_t(params_.num_beams) * size_t(vocab_));
  for (size_t g = 0; g < beams_.size(); ++g) {
    BeamGroup& group = beams_[g];
    if (group.search->is_done()) continue;
    std::copy_n(logits_.data() + g * log_probs.size(), log_probs.size(), log_probs.begin());
    // transformers' beam search: log-softmax first, then the processors, on log-probabilities.
    for (int32_t b = 0; b < params_.num_beams; ++b) {
      const std::span<float> row(log_probs.data() + size_t(b) * size_t(vocab_), size_t(vocab_));
      const auto tokens = group.search->beam_tokens(b);
      log_softmax(row);
      apply_repetition_penalty(row, tokens, params_.repetition_penalty);
      apply_no_repeat_ngram(row, tokens, params_.no_repeat_ngram_size);
      apply_min_length(row, int64_t(tokens.size()), params_.min_length, params_.stop_token_ids);
    }
    group.search->step(log_probs, vocab_);
    reorder_beam_slots(group);
    group.started = true;
    if (group.search->is_done()) group.results = group.search->results();
  }
}

void Generator::reorder_beam_slots(BeamGroup& group) {
  // New beam b continues old beam source[b]. The first new beam to continue an old one takes
  // over its slot as it is; a second one gets the slot of an old beam nobody continued and a
  // copy of the rows where the two slots differ. So each step copies at most one slot per
  // duplicated beam, and never a row two beams already share.
  const auto source = group.search->source_beams();
  const std::vector<int64_t> old_slots = group.slots;
  std::vector<bool> taken(old_slots.size(), false);
  std::vector<size_t> duplicates;
  for (size_t b = 0; b < source.size(); ++b) {
    const auto s = size_t(source[b]);
    if (!taken[s]) {
      taken[s] = true;
      group.slots[b] = old_slots[s];
    } else {
      duplicates.push_back(b);
    }
  }
  std::vector<int64_t> free_slots;
  for (size_t s = 0; s < old_slots.size(); ++s)
    if (!taken[s]) free_slots.push_back(old_slots[s]);
  for (size_t b : duplicates) {
    const int64_t from = old_slots[size_t(source[b])];
    const int64_t to = free_slots.back();
    free_slots.pop_back();
    kv_cache_.copy_sequence(from, to, kv_cache_.length(from));
    group.slots[b] = to;
  }
}

}  // namespace phirun
