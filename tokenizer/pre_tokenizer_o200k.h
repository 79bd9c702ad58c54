// The o200k pre-tokenizer (tiktoken's o200k_base split; llama.cpp's tokenizer.ggml.pre "gpt-4o";
// Phi-4-mini, GPT-4o). Internal to the tokenizer: use split_words(PreTokenizer::Gpt4o, ...).
#pragma once

#include <string_view>
#include <vector>

namespace phirun {

// Appends the words of `text` (well-formed UTF-8, already split at special tokens) to `words`, as
// views into `text`, in order; their concatenation is `text`.
void split_o200k_words(std::string_view text, std::vector<std::string_view>& words);

}  // namespace phirun
