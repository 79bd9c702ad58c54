#include "tools/cli_common.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "kernels/cpu/isa.h"
#include "runtime/default_model.h"
#include "runtime/generator_params.h"
#include "runtime/memory_budget.h"

namespace phirun::cli {

void add_model_flags(CLI::App& app, ModelFlags& flags) {
  app.add_option("-m,--model", flags.model_path, "GGUF model file (default: SmolLM2-135M-Instruct from the cache)");
  app.add_option("-t,--threads", flags.threads, "threads (default: physical cores)")->check(CLI::Range(1, 1024));
  app.add_option("-c,--ctx-size", flags.context, "context length in tokens (default: min(model's, 4096))")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  app.add_option("--kv-type", flags.kv_type, "KV cache element type")->check(CLI::IsMember({"f16", "f32"}));
  app.add_option("--accuracy", flags.accuracy,
                 "activations of integer-weight matmuls: int16 (default: two int8 planes, error ~1/65000 per "
                 "value), float (exact float math) or int8 (fastest; may change greedy text on fragile models)")
      ->check(CLI::IsMember({"float", "int16", "int8"}));
  app.add_option("--isa", flags.isa, "kernel variant: scalar, avx2, avx512, avx512vnni, neon (default: the best)");
  app.add_option("--max-memory", flags.max_memory,
                 "refuse to load a model whose weights and KV cache need more than this (e.g. 4G, 512M)");
  add_longrope_policy_flag(app, flags);
}

void add_longrope_policy_flag(CLI::App& app, ModelFlags& flags) {
  app.add_option("--longrope-policy", flags.longrope_policy,
                 "LongRoPE models (Phi-3-128k, Phi-3.5, Phi-4-mini) once the sequence passes the original context: "
                 "reprefill (default, as transformers: run the whole sequence again under the long factors) or "
                 "keep-cache (keep the keys cached under the short factors; no recomputation, different logits)")
      ->check(CLI::IsMember({"reprefill", "keep-cache"}));
}

std::string resolve_model_path(const ModelFlags& flags) {
  if (!flags.model_path.empty()) return flags.model_path;
  const std::string path = default_model_path();
  if (!std::filesystem::exists(path))
    throw std::runtime_error("no -m given and the default model is not at " + path + ": fetch it with " +
                             kDefaultModelFetchCommand);
  std::fprintf(stderr, "phirun: using the default model %s\n", path.c_str());
  return path;
}

std::unique_ptr<Model> load_model(const ModelFlags& flags) {
  if (!flags.isa.empty()) {
    const std::optional<Isa> isa = isa_from_name(flags.isa);
    if (!isa) throw std::runtime_error("--isa " + flags.isa + ": unknown kernel variant");
    force_isa(*isa);  // before loading: the weights are repacked for the variant in use
  }
  LoadOptions options;
  options.n_threads = flags.threads;
  if (!flags.max_memory.empty()) options.max_memory_bytes = parse_byte_size(flags.max_memory);
  options.context_length = flags.context;
  return Model::load(resolve_model_path(flags), options);
}

SessionOptions session_options(const ModelFlags& flags) {
  SessionOptions options;
  options.context_length = flags.context;
  options.kv_type = flags.kv_type == "f32" ? TensorType::F32 : TensorType::F16;
  options.activations = flags.accuracy == "int8"    ? ActivationPrecision::Int8
                        : flags.accuracy == "int16" ? ActivationPrecision::Int16
                                                    : ActivationPrecision::Float;
  const std::optional<LongRopePolicy> policy = long_rope_policy_from_name(flags.longrope_policy);
  if (!policy) throw std::runtime_error("--longrope-policy " + flags.longrope_policy + ": not reprefill or keep-cache");
  options.long_rope = *policy;
  return options;
}

std::string read_prompt(const std::string& prompt, const std::string& prompt_file) {
  if (!prompt.empty() && !prompt_file.empty()) throw std::runtime_error("give the prompt with -p or -f, not both");
  if (prompt_file.empty()) return prompt;
  std::ifstream in(prompt_file, std::ios::binary);
  if (!in) throw std::runtime_error(prompt_file + ": cannot open the prompt file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string summary_line(const GenerateStats& stats) {
  char line[256];
  const double prompt_rate = stats.prompt_seconds > 0 ? double(stats.prompt_tokens) / stats.prompt_seconds : 0.0;
  const double decode_rate = stats.decode_seconds > 0 ? double(stats.decode_steps) / stats.decode_seconds : 0.0;
  std::snprintf(line, sizeof line, "prompt %lld tokens, %.1f tok/s | generated %lld tokens, %.1f tok/s | stop: %s",
                static_cast<long long>(stats.prompt_tokens), prompt_rate,
                static_cast<long long>(stats.generated_tokens), decode_rate, stop_reason_name(stats.stop_reason));
  return line;
}

int parse_subcommand(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return -1;
}

}  // namespace phirun::cli
