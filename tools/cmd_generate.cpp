// `phirun generate`: continue raw text with the Generator and the search flags, streamed to stdout
// as tokens arrive, a summary line on stderr.
#include <cstdio>
#include <stdexcept>

#include "tokenizer/streaming_decoder.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "tools/search_flags.h"

namespace phirun::cli {

namespace {

struct GenerateFlags {
  ModelFlags model;
  SearchFlags search;
  std::string prompt;
  std::string prompt_file;
  int64_t n_predict = -1;
  bool print_ids = false;
  bool ignore_eos = false;
  bool no_special = false;
};

// Runs the generate loop over the search flags and prints what it makes.
int run_generation(const Model& model, const std::vector<int32_t>& prompt_ids, const GenerateFlags& flags,
                   int64_t default_tokens) {
  const int64_t new_tokens = flags.n_predict >= 0 ? flags.n_predict : default_tokens;
  const GeneratorParams params = generator_params(model, flags.model, flags.search, int64_t(prompt_ids.size()),
                                                  std::max<int64_t>(new_tokens, 1), !flags.ignore_eos);
  if (new_tokens == 0 && !flags.search.max_length) {
    std::fputs("\n", stdout);  // -n 0: nothing to generate
    return 0;
  }
  run_and_print(model, params, prompt_ids, OutputOptions{flags.print_ids});
  return 0;
}

}  // namespace

int generate_command(int argc, char** argv) {
  CLI::App app{
      "Continue a text with the model, streaming tokens as they come: greedy by default, or sampling\n"
      "(--do-sample) or beam search (--num-beams) with onnxruntime-genai's search options.\n"
      "Example: phirun generate -p \"Once upon a time\" -n 64 --do-sample --top-p 0.9 --seed 1",
      "phirun generate"};
  GenerateFlags flags;
  add_model_flags(app, flags.model);
  app.add_option("-p,--prompt", flags.prompt, "the text to continue");
  app.add_option("-f,--file", flags.prompt_file, "read the text to continue from a file");
  app.add_option("-n,--n-predict", flags.n_predict, "tokens to generate (default 256)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  app.add_flag("--ids", flags.print_ids, "print the generated token ids instead of text");
  app.add_flag("--ignore-eos", flags.ignore_eos, "do not stop at end-of-generation tokens");
  app.add_flag("--no-special", flags.no_special, "treat special-token text in the prompt as plain text");
  add_search_flags(app, flags.search);
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  const std::string text = read_prompt(flags.prompt, flags.prompt_file);
  if (text.empty()) throw std::runtime_error("no prompt: give one with -p TEXT or -f FILE");
  const auto model = load_model(flags.model);
  const std::vector<int32_t> ids = model->tokenizer().encode(text, !flags.no_special);
  if (ids.empty()) throw std::runtime_error("the prompt encodes to no tokens");
  return run_generation(*model, ids, flags, 256);
}

}  // namespace phirun::cli
