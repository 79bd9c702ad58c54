// The search flags that `phirun generate` and `phirun chat` share, one per GeneratorParams
// option under onnxruntime-genai's name (--num-beams, --top-k, ...), defaulting to the model's
// generation config, and the streaming output of a generation (stop strings held back).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "runtime/generator.h"
#include "tools/cli_common.h"

namespace phirun::cli {

struct SearchFlags {
  std::optional<int64_t> max_length, min_length, top_k, no_repeat_ngram_size, seed;
  std::optional<int32_t> num_beams, num_return_sequences;
  std::optional<float> top_p, temperature, repetition_penalty, length_penalty;
  std::optional<bool> early_stopping;
  bool do_sample = false;
  std::vector<std::string> stop_strings;
};

void add_search_flags(CLI::App& app, SearchFlags& flags);

// The model's defaults with the flags applied. Without --max-length, max_length is the prompt
// plus `new_tokens`, within the context (-c, else min(model's, 4096)); a prompt that fills the
// context is an error saying so.
GeneratorParams generator_params(const Model& model, const ModelFlags& model_flags, const SearchFlags& flags,
                                 int64_t prompt_tokens, int64_t new_tokens, bool stop_at_end_tokens);

struct OutputOptions {
  bool print_ids = false;
};

// Generates from `prompt` and prints the result: one sequence streams to stdout as it comes
// (stop strings cut out); several (beams, num_return_sequences) print at the end, best first,
// with their scores. A summary line goes to stderr.
void run_and_print(const Model& model, const GeneratorParams& params, const std::vector<int32_t>& prompt,
                   const OutputOptions& output);

}  // namespace phirun::cli
