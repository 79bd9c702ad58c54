// `phirun build`: Hugging Face folder or GGUF file in, GGUF file out at the asked precision, with a
// progress bar on stderr. Accepts onnxruntime-genai builder spellings too (-m, -e, -p int4, -o as a
// folder). Ctrl-C stops the build cleanly: the output file never appears half-written.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "models/builder/build.h"
#include "models/builder/progress.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "tools/interrupt_guard.h"

namespace phirun::cli {

namespace {

namespace fs = std::filesystem;

// Draws the progress bar: redrawn in place on a terminal, a line per tenth of the way otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet) : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) != 0) {}

  void operator()(const builder::BuildProgress& progress) {
    if (quiet_) return;
    const std::string line = builder::format_progress(progress);
    if (terminal_) {
      std::fprintf(stderr, "\r%-150s", line.c_str());
      if (progress.stage != stage_) stage_ = progress.stage;
      std::fflush(stderr);
      drawn_ = true;
      return;
    }
    const double fraction = progress.bytes_total > 0 ? double(progress.bytes_written) / double(progress.bytes_total)
                            : progress.total > 0     ? double(progress.done) / double(progress.total)
                                                     : 0.0;
    const int tenth = int(fraction * 10);
    if (progress.stage != stage_ || tenth > last_tenth_) {
      if (progress.stage != stage_) last_tenth_ = -1;
      stage_ = progress.stage;
      last_tenth_ = tenth;
      std::fprintf(stderr, "phirun: %s\n", line.c_str());
    }
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
  }

 private:
  bool quiet_, terminal_;
  bool drawn_ = false;
  std::string stage_;
  int last_tenth_ = -1;
};

std::optional<builder::Precision> precision_flag(const std::string& value, const char* flag) {
  if (value.empty()) return std::nullopt;
  auto precision = builder::parse_precision(value);
  if (!precision) throw std::runtime_error(std::string(flag) + " " + value + ": use fp32, fp16, bf16, int8 or int4");
  return precision;
}

// onnxruntime-genai's -m takes a hub name or a folder; offline, only a folder can work.
std::string resolve_input(const std::string& input, const std::string& model_name) {
  if (!input.empty() && !model_name.empty()) throw std::runtime_error("give the input once: -i or -m, not both");
  const std::string value = input.empty() ? model_name : input;
  if (value.empty()) return value;
  if (!fs::exists(value)) {
    const bool looks_like_hub_name = value.find('/') != std::string::npos && value.find('/') == value.rfind('/') &&
                                     value[0] != '/' && value[0] != '.';
    if (looks_like_hub_name)
      throw std::runtime_error("'" + value +
                               "' is not a local folder, and phirun build does not download from the Hugging Face "
                               "hub (it works offline): download the model first (for example `huggingface-cli "
                               "download " +
                               value + " --local-dir DIR`) and pass -i DIR");
    throw std::runtime_error(value + ": no such file or folder");
  }
  return value;
}

}  // namespace

int build_command(int argc, char** argv) {
  CLI::App app{
      "Build a GGUF model file from a Hugging Face folder or a GGUF file, at the asked precision.\n"
      "example: phirun build -i SmolLM2-135M-Instruct/ -o smollm2-int4.gguf -p int4 --calib calibration.txt",
      "phirun build"};
  std::string input, model_name, output, precision, execution_provider, int4_type = "q4_0";
  std::string embed_precision, lm_head_precision;
  builder::BuildOptions options;
  bool quiet = false;
  app.add_option("-i,--input", input, "Hugging Face model folder, or a GGUF file to re-quantize");
  app.add_option("-m,--model", model_name,
                 "same as -i (onnxruntime-genai's spelling); hub names need a download first");
  app.add_option("-o,--output", output, "the GGUF file to write (a folder: writes FOLDER/model.gguf)")->required();
  app.add_option("-p,--precision", precision, "fp32, fp16, bf16, int8 or int4 (default: -e's, else int4)")
      ->check(CLI::IsMember({"fp32", "fp16", "bf16", "int8", "int4"}));
  app.add_option("-e,--execution-provider,--execution_provider", execution_provider,
                 "cpu or cuda: picks that device's default precision (cpu: int4, cuda: fp16)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--int4-type", int4_type, "INT4 block format: q4_0 (symmetric) or q4_1 (with a minimum)")
      ->check(CLI::IsMember({"q4_0", "q4_1"}));
  app.add_option("--embed-precision", embed_precision, "precision of the token embedding (default: int8 at int4)")
      ->check(CLI::IsMember({"fp32", "fp16", "bf16", "int8", "int4"}));
  app.add_option("--lm-head-precision", lm_head_precision, "precision of the output head (default: int8 at int4)")
      ->check(CLI::IsMember({"fp32", "fp16", "bf16", "int8", "int4"}));
  app.add_option("--calib", options.calibration_text,
                 "calibration text: activation statistics weight the quantization error (use text unlike your "
                 "evaluation text)");
  app.add_option("--calib-chunks", options.calibration_chunks, "use at most N chunks of the calibration text")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--calib-cache", options.calibration_cache,
                 "activation statistics file: read if it exists (no calibration run), else written after calibrating");
  app.add_flag("--gptq", options.gptq,
               "with --calib: GPTQ error feedback on top of the importance weights (slower; on SmolLM2 the best int8, but a worse int4 than --calib alone)");
  app.add_option("--calib-ctx", options.calibration_context, "tokens per calibration chunk (default 512)")
      ->check(CLI::Range(int64_t(8), int64_t(1) << 20));
  app.add_option("-t,--threads", options.threads, "threads (default: physical cores)")->check(CLI::Range(1, 1024));
  app.add_flag("--force", options.force, "overwrite the output file if it exists");
  app.add_flag("--random-weights", options.random_weights,
               "no input: deterministic random weights of the shape --config describes (for speed benchmarks)");
  app.add_option("--config", options.random_config, "config.json for --random-weights");
  app.add_option("--tokenizer", options.random_tokenizer,
                 "folder with the tokenizer files for --random-weights (default: the config's folder)");
  app.add_option("--seed", options.seed, "seed of --random-weights (default 0)");
  app.add_option("--search-steps", options.search.steps,
                 "candidate scales on each side of the plain rule's scale that each block tries (default 2)")
      ->check(CLI::Range(1, 32));
  app.add_flag("--plain-rounding", options.search.plain_rounding,
               "quantize with plain max-abs rounding (llama-quantize's rule without an imatrix), for comparisons");
  std::string weighting = "uniform";
  app.add_option("--value-weighting", weighting,
                 "weight of each value's error inside a block: uniform, square (x^2) or sigma-square (s^2 + x^2)")
      ->check(CLI::IsMember({"uniform", "square", "sigma-square"}));
  app.add_flag("-q,--quiet", quiet, "no progress bar");
  if (const int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  options.search.weighting = weighting == "square"         ? ValueWeighting::Square
                             : weighting == "sigma-square" ? ValueWeighting::SigmaSquare
                                                           : ValueWeighting::Uniform;
  options.input = resolve_input(input, model_name);
  if (options.random_weights && !options.input.empty())
    throw std::runtime_error("--random-weights builds from --config alone: drop -i/-m");
  if (!options.random_weights && !options.random_config.empty())
    throw std::runtime_error("--config is for --random-weights (a Hugging Face folder brings its own config.json)");
  if (precision.empty()) precision = execution_provider == "cuda" ? "fp16" : "int4";
  options.policy.precision = *builder::parse_precision(precision);
  options.policy.int4_type = int4_type == "q4_1" ? TensorType::Q4_1 : TensorType::Q4_0;
  options.policy.embed = precision_flag(embed_precision, "--embed-precision");
  options.policy.lm_head = precision_flag(lm_head_precision, "--lm-head-precision");
  options.output = fs::is_directory(output) ? (fs::path(output) / "model.gguf").string() : output;

  ProgressPrinter printer(quiet);
  options.on_progress = [&](const builder::BuildProgress& progress) { printer(progress); };
  InterruptGuard guard;
  options.cancel = &InterruptGuard::interrupted();
  builder::BuildSummary summary;
  try {
    summary = builder::build_model(options);
  } catch (...) {
    printer.finish();
    throw;
  }
  printer.finish();

  for (const std::string& note : summary.notes) std::fprintf(stderr, "phirun: note: %s\n", note.c_str());
  std::string types;
  for (const auto& [type, count] : summary.parameters_by_type) {
    char part[64];
    std::snprintf(part, sizeof part, "%s%.1fM %s", types.empty() ? "" : ", ", double(count) / 1e6, type.c_str());
    types += part;
  }
  std::fprintf(stderr, "phirun: read %s\n", summary.source.c_str());
  if (summary.calibration_tokens > 0)
    std::fprintf(stderr, "phirun: calibrated on %lld tokens of %s in %.1f s\n",
                 static_cast<long long>(summary.calibration_tokens), options.calibration_text.c_str(),
                 summary.calibration_seconds);
  std::fprintf(stderr, "phirun: wrote %s: %s, %.1fM parameters (%s), %.2f bits per weight, in %.2f s\n",
               options.output.c_str(), builder::format_bytes(summary.file_bytes).c_str(),
               double(summary.parameters) / 1e6, types.c_str(),
               8.0 * double(summary.file_bytes) / double(std::max<int64_t>(summary.parameters, 1)), summary.seconds);
  return 0;
}

}  // namespace phirun::cli
