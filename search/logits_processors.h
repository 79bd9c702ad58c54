// Logits processors: each rewrites one row of scores ([vocab]) in place, with the rules of
// Hugging Face transformers' processors of the same name. A removed token gets -infinity.
// The generator applies them in onnxruntime-genai's order: min_length, repetition penalty,
// no-repeat n-gram; then, when sampling, temperature, top-k, top-p.
#pragma once

#include <cstdint>
#include <span>

namespace phirun {

// While the sequence (prompt included) is shorter than min_length, no end token may come.
void apply_min_length(std::span<float> scores, int64_t sequence_length, int64_t min_length,
                      std::span<const int32_t> end_token_ids);

// Every distinct id of `sequence` (prompt included): a positive score is divided by `penalty`,
// a negative one multiplied by it (transformers' RepetitionPenaltyLogitsProcessor).
void apply_repetition_penalty(std::span<float> scores, std::span<const int32_t> sequence, float penalty);

// Bans each token that would complete an n-gram of `ngram_size` tokens already in `sequence`
// (transformers' NoRepeatNGramLogitsProcessor).
void apply_no_repeat_ngram(std::span<float> scores, std::span<const int32_t> sequence, int64_t ngram_size);

// scores / temperature (temperature > 0).
void apply_temperature(std::span<float> scores, float temperature);

// Keeps the top_k largest scores and every score tied with the k-th; top_k <= 0 or >= vocab
// keeps all (transformers' TopKLogitsWarper with min_tokens_to_keep 1).
void apply_top_k(std::span<float> scores, int64_t top_k);

// Keeps the smallest set of the most likely tokens whose probability adds up to more than
// top_p, always at least the most likely one (transformers' TopPLogitsWarper: sorted
// ascending, a token goes when the cumulative probability up to it is <= 1 - top_p).
// top_p >= 1 keeps all.
void apply_top_p(std::span<float> scores, float top_p);

// scores[i] = log(softmax(scores)[i]): what beam search adds up.
void log_softmax(std::span<float> scores);

}  // namespace phirun
