// The search options of a Generator, with onnxruntime-genai's names and defaults (its
// Config::Search), and defaults taken from the model's generation config when the GGUF file
// carries one. Keys read from the GGUF file:
//   general.sampling.top_k, general.sampling.top_p, general.sampling.temp,
//   general.sampling.penalty_repeat      llama.cpp's keys (its converter and phirun's builder
//                                         write them from generation_config.json)
//   phirun.eos_token_ids (array of int)   generation_config.json's eos_token_id (phirun's builder)
//   phirun.generation.do_sample (bool), .max_length, .min_length, .num_beams,
//   .num_return_sequences, .no_repeat_ngram_size (uint), .length_penalty (float),
//   .early_stopping (bool): the rest of generation_config.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/ops.h"
#include "kernels/quant/tensor_type.h"
#include "models/model_config.h"

namespace phirun {

class Model;

struct GeneratorParams {
  int64_t max_length = 0;  // tokens, prompt included; 0: the model's context, at most 4096
  int64_t min_length = 0;  // tokens, prompt included: end tokens are banned until then
  bool do_sample = false;  // false: greedy (or beam search when num_beams > 1)
  int64_t top_k = 0;       // 0: no top-k filter
  float top_p = 1.0f;      // 1: no top-p filter (onnxruntime-genai writes 0 for "unset")
  float temperature = 1.0f;
  float repetition_penalty = 1.0f;
  int64_t no_repeat_ngram_size = 0;
  int32_t num_beams = 1;
  int32_t num_return_sequences = 1;
  float length_penalty = 1.0f;
  bool early_stopping = true;
  float diversity_penalty = 0.0f;  // group beam search: not implemented, must stay 0
  int64_t random_seed = -1;        // -1: a seed from the operating system
  int32_t batch_size = 1;
  // Tokens that end a sequence; empty here means the model's end-of-generation tokens (its
  // phirun.eos_token_ids key, else the tokenizer's set). Set stop_token_ids_given to use exactly the
  // list, even an empty one (never stop at a token).
  std::vector<int32_t> stop_token_ids;
  bool stop_token_ids_given = false;
  std::vector<std::string> stop_strings;  // a sequence ends once its generated text holds one
  TensorType kv_type = TensorType::F16;   // the KV cache: F16, or F32 for exact comparisons
  // LongRoPE models crossing their original context: re-prefill as transformers.generate does.
  LongRopePolicy long_rope = LongRopePolicy::Reprefill;
  // Activations of Q4_0/Q4_1/Q8_0 matmuls: Int16 (default), Float (exact) or Int8 (fastest); see
  // ActivationPrecision.
  ActivationPrecision activations = ActivationPrecision::Int16;
};

// The defaults for this model: onnxruntime-genai's, overridden by the GGUF's generation keys;
// max_length is the file's, else the model's context length capped at 4096 (onnxruntime-genai
// takes the whole context, which for a 128k-token model would reserve tens of GB of KV cache).
GeneratorParams default_generator_params(const Model& model);

// Sets or reads an option by its onnxruntime-genai name ("max_length", "top_p", "do_sample",
// ...). Booleans are 0 or 1. Throws std::runtime_error for an unknown name or a value that is
// not a whole number where one is needed.
void set_search_option(GeneratorParams& params, std::string_view name, double value);
double get_search_option(const GeneratorParams& params, std::string_view name);
// Every option name set_search_option knows, in the order of the README's table.
const std::vector<std::string>& search_option_names();

// Fills max_length and stop tokens from the model, then checks every option and their
// combinations; throws std::runtime_error naming the option and the problem.
GeneratorParams resolve_generator_params(const GeneratorParams& params, const Model& model);

// The LongRoPE policy by its flag name: "reprefill" or "keep-cache"; nullopt for any other name.
std::optional<LongRopePolicy> long_rope_policy_from_name(std::string_view name);
const char* long_rope_policy_name(LongRopePolicy policy);

// True when the options pick the next token by argmax (onnxruntime-genai's rule).
bool is_greedy(const GeneratorParams& params);

}  // namespace phirun
