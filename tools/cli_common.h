// What the phirun subcommands share: the model and runtime flags, finding the default model,
// and the one-line error and summary formats.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "runtime/generate.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace phirun::cli {

struct ModelFlags {
  std::string model_path;  // empty: the default model
  int threads = 0;         // 0: physical cores
  int64_t context = 0;     // 0: min(model context, 4096)
  std::string kv_type = "f16";
  std::string accuracy = "int16";             // activation precision: float | int16 | int8
  std::string isa;                            // kernel variant; empty: PHIRUN_ISA or the best this CPU runs
  std::string max_memory;                     // "4G", "512M": weights + KV cache must fit; empty: physical memory
  std::string longrope_policy = "reprefill";  // LongRoPE models crossing their original context
};

// -m, -t, -c, --kv-type, --accuracy, --isa, --max-memory, --longrope-policy.
void add_model_flags(CLI::App& app, ModelFlags& flags);

// The model path to open: -m, else the default model (saying so on stderr). Throws with the
// fetch command when the default model is missing.
std::string resolve_model_path(const ModelFlags& flags);

std::unique_ptr<Model> load_model(const ModelFlags& flags);
// --longrope-policy on an app of its own (phirun bench takes only some of the model flags).
void add_longrope_policy_flag(CLI::App& app, ModelFlags& flags);
SessionOptions session_options(const ModelFlags& flags);

// The prompt from -p or -f FILE (exactly one of them).
std::string read_prompt(const std::string& prompt, const std::string& prompt_file);

// "prompt 37 tokens, 812.4 tok/s | generated 8 tokens, 95.2 tok/s | stop: end of generation"
std::string summary_line(const GenerateStats& stats);

// Parses argv for a subcommand; returns the exit code to use when parsing ended the run
// (--help, a bad flag), or -1 to go on.
int parse_subcommand(CLI::App& app, int argc, char** argv);

}  // namespace phirun::cli
