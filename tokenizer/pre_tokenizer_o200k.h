// The o200k pre-tokenizer (tiktoken's o200k_base split; llama.cpp's tokenizer.ggml.pre "gpt-4o";
// Phi-4-mini, GPT-4o) and Qwen2's. Internal to the tokenizer: use split_words(PreTokenizer::Gpt4o
// or ::Qwen2, ...).
#pragma once

#include <string_view>
#include <vector>

namespace phirun {

// Appends the words of `text` (well-formed UTF-8, already split at special tokens) to `words`, as
// views into `text`, in order; their concatenation is `text`.
void split_o200k_words(std::string_view text, std::vector<std::string_view>& words);
// The same for Qwen2's split pattern (tokenizer.ggml.pre "qwen2"; Qwen2, Qwen2.5).
void split_qwen2_words(std::string_view text, std::vector<std::string_view>& words);

}  // namespace phirun
