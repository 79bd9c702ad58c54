// `phirun generate` (continue raw text) and `phirun chat` (one question through the model's chat
// template): the Generator with the search flags, streamed to stdout as tokens arrive, a summary
// line on stderr.
#include <cstdio>
#include <stdexcept>

#include "tokenizer/chat_template.h"
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
  std::string system;
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

int chat_command(int argc, char** argv) {
  CLI::App app{
      "Ask the model one question, formatted with its own chat template, and print the answer.\n"
      "Example: phirun chat -p \"What is the capital of France?\"",
      "phirun chat"};
  GenerateFlags flags;
  add_model_flags(app, flags.model);
  app.add_option("-p,--prompt", flags.prompt, "the question");
  app.add_option("-f,--file", flags.prompt_file, "read the question from a file");
  app.add_option("--system", flags.system, "a system message (default: the template's own, if any)");
  app.add_option("-n,--n-predict", flags.n_predict, "most tokens in the answer (default 512)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  app.add_flag("--ids", flags.print_ids, "print the answer's token ids instead of text");
  add_search_flags(app, flags.search);
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  const std::string question = read_prompt(flags.prompt, flags.prompt_file);
  if (question.empty())
    throw std::runtime_error("no question: give one with -p TEXT (interactive chat is not built yet)");
  const auto model = load_model(flags.model);
  std::vector<ChatMessage> messages;
  if (!flags.system.empty()) messages.push_back({"system", flags.system});
  messages.push_back({"user", question});
  // The template sees the texts of the model's BOS and EOS tokens, as transformers passes them.
  const TokenizerVocab& vocab = model->tokenizer().vocab();
  ChatTemplateOptions options;
  if (vocab.bos_id >= 0) options.bos_token = model->tokenizer().token_bytes(vocab.bos_id);
  if (vocab.eos_id >= 0) options.eos_token = model->tokenizer().token_bytes(vocab.eos_id);
  const std::string prompt = render_chat(model->chat_template(), messages, options);
  // The template's own markers are special tokens; the user's text is parsed the same way, as
  // Hugging Face's tokenizer does for a rendered chat prompt. transformers tokenizes it without
  // adding special tokens (templates that want a BOS write bos_token themselves), so the BOS that
  // encode() adds for an add_bos vocabulary is taken off again.
  std::vector<int32_t> ids = model->tokenizer().encode(prompt, true);
  if (vocab.add_bos && !ids.empty() && ids.front() == vocab.bos_id) ids.erase(ids.begin());
  return run_generation(*model, ids, flags, 512);
}

}  // namespace phirun::cli
