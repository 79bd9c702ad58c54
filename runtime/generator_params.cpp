// GeneratorParams: the option table (names as onnxruntime-genai spells them), the model's
// generation defaults from GGUF keys, and the checks that turn contradictory options into one
// clear error before any work is done.
#include "runtime/generator_params.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "runtime/model.h"

namespace phirun {

namespace {

constexpr int32_t kMaxBeams = 32;
constexpr int32_t kMaxBatch = 1024;
constexpr int64_t kDefaultMaxLengthCap = 4096;

enum class Kind { Integer, Float, Bool };

struct Option {
  const char* name;
  Kind kind;
  std::function<double(const GeneratorParams&)> get;
  std::function<void(GeneratorParams&, double)> set;
};

const std::vector<Option>& options() {
  static const std::vector<Option> table = {
      {"max_length", Kind::Integer, [](auto& p) { return double(p.max_length); },
       [](auto& p, double v) { p.max_length = int64_t(v); }},
      {"min_length", Kind::Integer, [](auto& p) { return double(p.min_length); },
       [](auto& p, double v) { p.min_length = int64_t(v); }},
      {"do_sample", Kind::Bool, [](auto& p) { return double(p.do_sample); },
       [](auto& p, double v) { p.do_sample = v != 0; }},
      {"top_k", Kind::Integer, [](auto& p) { return double(p.top_k); },
       [](auto& p, double v) { p.top_k = int64_t(v); }},
      {"top_p", Kind::Float, [](auto& p) { return double(p.top_p); }, [](auto& p, double v) { p.top_p = float(v); }},
      {"temperature", Kind::Float, [](auto& p) { return double(p.temperature); },
       [](auto& p, double v) { p.temperature = float(v); }},
      {"repetition_penalty", Kind::Float, [](auto& p) { return double(p.repetition_penalty); },
       [](auto& p, double v) { p.repetition_penalty = float(v); }},
      {"no_repeat_ngram_size", Kind::Integer, [](auto& p) { return double(p.no_repeat_ngram_size); },
       [](auto& p, double v) { p.no_repeat_ngram_size = int64_t(v); }},
      {"num_beams", Kind::Integer, [](auto& p) { return double(p.num_beams); },
       [](auto& p, double v) { p.num_beams = int32_t(v); }},
      {"num_return_sequences", Kind::Integer, [](auto& p) { return double(p.num_return_sequences); },
       [](auto& p, double v) { p.num_return_sequences = int32_t(v); }},
      {"length_penalty", Kind::Float, [](auto& p) { return double(p.length_penalty); },
       [](auto& p, double v) { p.length_penalty = float(v); }},
      {"early_stopping", Kind::Bool, [](auto& p) { return double(p.early_stopping); },
       [](auto& p, double v) { p.early_stopping = v != 0; }},
      {"diversity_penalty", Kind::Float, [](auto& p) { return double(p.diversity_penalty); },
       [](auto& p, double v) { p.diversity_penalty = float(v); }},
      {"random_seed", Kind::Integer, [](auto& p) { return double(p.random_seed); },
       [](auto& p, double v) { p.random_seed = int64_t(v); }},
      {"batch_size", Kind::Integer, [](auto& p) { return double(p.batch_size); },
       [](auto& p, double v) { p.batch_size = int32_t(v); }},
  };
  return table;
}

const Option& find_option(std::string_view name) {
  for (const Option& option : options())
    if (name == option.name) return option;
  std::string known;
  for (const Option& option : options()) known += std::string(known.empty() ? "" : ", ") + option.name;
  throw std::runtime_error("unknown search option '" + std::string(name) + "' (known: " + known + ")");
}

[[noreturn]] void invalid(const std::string& problem) { throw std::runtime_error(problem); }

std::string show(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

const std::vector<std::string>& search_option_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const Option& option : options()) all.push_back(option.name);
    return all;
  }();
  return names;
}

void set_search_option(GeneratorParams& params, std::string_view name, double value) {
  const Option& option = find_option(name);
  if (!std::isfinite(value) && option.kind != Kind::Float)
    invalid(std::string(name) + " = " + show(value) + " is not a number");
  if (option.kind == Kind::Integer &&
      (value != std::floor(value) || value < -9.0e15 || value > 9.0e15))  // whole and exact in a double
    invalid(std::string(name) + " = " + show(value) + " must be a whole number");
  if (option.kind == Kind::Bool && value != 0 && value != 1)
    invalid(std::string(name) + " must be 0 or 1 (false or true)");
  if (option.kind == Kind::Integer &&
      (std::string_view(option.name) == "num_beams" || std::string_view(option.name) == "num_return_sequences" ||
       std::string_view(option.name) == "batch_size") &&
      std::fabs(value) > 1e9)
    invalid(std::string(name) + " = " + show(value) + " is out of range");
  option.set(params, value);
}

double get_search_option(const GeneratorParams& params, std::string_view name) { return find_option(name).get(params); }

GeneratorParams default_generator_params(const Model& model) {
  GeneratorParams params;
  const GgufFile& file = model.file();
  if (auto top_k = file.find_uint("general.sampling.top_k"))
    params.top_k = int64_t(std::min<uint64_t>(*top_k, 1u << 30));
  if (auto top_p = file.find_float("general.sampling.top_p")) params.top_p = float(*top_p);
  if (auto temperature = file.find_float("general.sampling.temp")) params.temperature = float(*temperature);
  if (auto penalty = file.find_float("general.sampling.penalty_repeat")) params.repetition_penalty = float(*penalty);
  const std::string prefix = "phirun.generation.";
  auto whole = [&](const char* key, auto& field, uint64_t max) {
    if (auto value = file.find_uint(prefix + key))
      field = std::remove_reference_t<decltype(field)>(std::min(*value, max));
  };
  whole("max_length", params.max_length, uint64_t(1) << 40);
  whole("min_length", params.min_length, uint64_t(1) << 40);
  whole("num_beams", params.num_beams, uint64_t(1) << 20);
  whole("num_return_sequences", params.num_return_sequences, uint64_t(1) << 20);
  whole("no_repeat_ngram_size", params.no_repeat_ngram_size, uint64_t(1) << 20);
  if (auto value = file.find_bool(prefix + "do_sample")) params.do_sample = *value;
  if (auto value = file.find_bool(prefix + "early_stopping")) params.early_stopping = *value;
  if (auto value = file.find_float(prefix + "length_penalty")) params.length_penalty = float(*value);
  if (params.max_length == 0) params.max_length = std::min(model.config().context_length, kDefaultMaxLengthCap);
  // The ids generation_config.json lists as eos_token_id, written by phirun's builder.
  const std::string eos_key = "phirun.eos_token_ids";
  if (const GgufValue* ids = file.find(eos_key)) {
    if (ids->type != GgufType::ARRAY || !(ids->element_type == GgufType::I32 || ids->element_type == GgufType::U32 ||
                                          ids->element_type == GgufType::I64 || ids->element_type == GgufType::U64))
      throw std::runtime_error(file.error_prefix() + eos_key + " must be an array of integers");
    for (uint64_t id : ids->unsigned_items) params.stop_token_ids.push_back(int32_t(std::min<uint64_t>(id, INT32_MAX)));
    for (int64_t id : ids->signed_items)
      params.stop_token_ids.push_back(int32_t(std::clamp<int64_t>(id, INT32_MIN, INT32_MAX)));
    params.stop_token_ids_given = true;
  }
  return params;
}

bool is_greedy(const GeneratorParams& params) {
  return !params.do_sample || params.top_k == 1 || params.temperature == 0.0f;
}

GeneratorParams resolve_generator_params(const GeneratorParams& given, const Model& model) {
  GeneratorParams params = given;
  const ModelConfig& config = model.config();
  if (params.max_length == 0) params.max_length = std::min(config.context_length, kDefaultMaxLengthCap);
  if (params.max_length < 1 || params.max_length > config.context_length)
    invalid("max_length = " + std::to_string(params.max_length) + " must be between 1 and the model's context of " +
            std::to_string(config.context_length) + " tokens");
  if (params.min_length < 0) invalid("min_length = " + std::to_string(params.min_length) + " is negative");
  if (params.min_length > params.max_length)
    invalid("min_length = " + std::to_string(params.min_length) +
            " is above max_length = " + std::to_string(params.max_length));
  if (params.top_k < 0) invalid("top_k = " + std::to_string(params.top_k) + " is negative (0 turns top-k off)");
  if (!(params.top_p > 0.0f && params.top_p <= 1.0f))
    invalid("top_p = " + show(params.top_p) + " is outside (0, 1] (1 turns top-p off)");
  if (!(params.temperature >= 0.0f) || !std::isfinite(params.temperature))
    invalid("temperature = " + show(params.temperature) + " must be a finite number >= 0 (0 means greedy)");
  if (!(params.repetition_penalty > 0.0f) || !std::isfinite(params.repetition_penalty))
    invalid("repetition_penalty = " + show(params.repetition_penalty) + " must be a finite number > 0 (1 is none)");
  if (params.no_repeat_ngram_size < 0)
    invalid("no_repeat_ngram_size = " + std::to_string(params.no_repeat_ngram_size) + " is negative");
  if (params.num_beams < 1 || params.num_beams > kMaxBeams)
    invalid("num_beams = " + std::to_string(params.num_beams) + " is outside [1, " + std::to_string(kMaxBeams) + "]");
  if (!std::isfinite(params.length_penalty)) invalid("length_penalty must be a finite number");
  if (params.diversity_penalty != 0.0f)
    invalid(
        "diversity_penalty (group beam search) is not implemented: transformers 5 moved it out of the library, "
        "so there is no reference to be exact against; leave it at 0");
  if (params.batch_size < 1 || params.batch_size > kMaxBatch)
    invalid("batch_size = " + std::to_string(params.batch_size) + " is outside [1, " + std::to_string(kMaxBatch) + "]");
  if (params.random_seed < -1) invalid("random_seed = " + std::to_string(params.random_seed) + " is below -1");
  if (params.num_beams > 1) {
    if (params.do_sample)
      invalid("do_sample with num_beams > 1 (beam sampling) is not implemented; use one or the other");
    if (params.num_return_sequences < 1 || params.num_return_sequences > params.num_beams)
      invalid("num_return_sequences = " + std::to_string(params.num_return_sequences) +
              " must be between 1 and num_beams = " + std::to_string(params.num_beams));
    if (!params.stop_strings.empty())
      invalid("stop strings work with greedy search and sampling, not with beam search; use stop token ids");
  } else {
    if (params.num_return_sequences < 1)
      invalid("num_return_sequences = " + std::to_string(params.num_return_sequences) + " must be at least 1");
    if (params.num_return_sequences > 1 && is_greedy(params))
      invalid("num_return_sequences = " + std::to_string(params.num_return_sequences) +
              " with greedy search would return the same sequence each time: set do_sample or num_beams");
    if (params.num_return_sequences > kMaxBatch)
      invalid("num_return_sequences = " + std::to_string(params.num_return_sequences) + " is above " +
              std::to_string(kMaxBatch));
  }
  for (const std::string& stop : params.stop_strings)
    if (stop.empty()) invalid("a stop string is empty");
  if (!params.stop_token_ids_given) {
    const auto& ids = model.tokenizer().end_of_generation_ids();
    params.stop_token_ids.assign(ids.begin(), ids.end());
    params.stop_token_ids_given = true;
  }
  for (int32_t id : params.stop_token_ids)
    if (id < 0 || id >= config.vocab_size)
      invalid("stop token id " + std::to_string(id) + " is outside the vocabulary of " +
              std::to_string(config.vocab_size));
  if (params.kv_type != TensorType::F16 && params.kv_type != TensorType::F32)
    invalid("the KV cache type must be F16 or F32");
  return params;
}

std::optional<LongRopePolicy> long_rope_policy_from_name(std::string_view name) {
  if (name == "reprefill") return LongRopePolicy::Reprefill;
  if (name == "keep-cache") return LongRopePolicy::KeepCache;
  return std::nullopt;
}

const char* long_rope_policy_name(LongRopePolicy policy) {
  return policy == LongRopePolicy::Reprefill ? "reprefill" : "keep-cache";
}

}  // namespace phirun
