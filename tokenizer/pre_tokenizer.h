// Pre-tokenizers of byte-level BPE: split text into the words that BPE then merges within.
// Hand-written matchers equivalent to the tokenizer regexes (no regex library): GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// SmolLM's, which first isolates every \p{N} character and then applies GPT-2's pattern to each
// stretch between them (Hugging Face: Sequence[Digits(individual_digits), ByteLevel]), and
// o200k's (GPT-4o, Phi-4-mini) and Qwen2's (see pre_tokenizer_o200k.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace phirun {

enum class PreTokenizer {
  Gpt2,    // tokenizer.ggml.pre "gpt2" or "default"
  SmolLM,  // tokenizer.ggml.pre "smollm"
  Gpt4o,   // tokenizer.ggml.pre "gpt-4o": the o200k pattern (Phi-4-mini)
  Qwen2,   // tokenizer.ggml.pre "qwen2": Qwen2's split pattern (one digit per word)
};

// The four classes GPT-2's pattern tells apart: \p{L}, \p{N}, \s, and everything else.
enum class CharClass : uint8_t { Letter, Number, WhiteSpace, Other };
CharClass char_class(char32_t code_point);

// Maps tokenizer.ggml.pre to a pre-tokenizer; throws std::runtime_error naming the supported
// values for anything else.
PreTokenizer pre_tokenizer_from_name(std::string_view name);

// Appends the words of `text` (well-formed UTF-8, already split at special tokens) to `words`,
// as views into `text`, in order; their concatenation is `text`.
void split_words(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& words);

}  // namespace phirun
