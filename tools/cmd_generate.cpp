// `phirun generate` (continue raw text) and `phirun chat` (one question through the model's chat
// template): greedy decoding, streamed to stdout as tokens arrive, a summary line on stderr.
#include <cstdio>
#include <stdexcept>

#include "tokenizer/chat_template.h"
#include "tokenizer/streaming_decoder.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace phirun::cli {

namespace {

struct GenerateFlags {
  ModelFlags model;
  std::string prompt;
  std::string prompt_file;
  std::string system;
  int64_t n_predict = -1;
  bool print_ids = false;
  bool ignore_eos = false;
  bool no_special = false;
};

void write_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// Runs the generate loop and streams its output: text (never half a UTF-8 character), or ids.
int run_generation(const Model& model, const ModelFlags& model_flags, const std::vector<int32_t>& prompt_ids,
                   const GenerateFlags& flags, int64_t default_tokens) {
  Session session(model, session_options(model_flags));
  if (int64_t(prompt_ids.size()) >= session.context_length())
    throw std::runtime_error("the prompt has " + std::to_string(prompt_ids.size()) + " tokens but the context holds " +
                             std::to_string(session.context_length()) + " (raise it with -c, up to the model's " +
                             std::to_string(model.config().context_length) + ")");
  GenerateOptions options;
  options.max_new_tokens = flags.n_predict >= 0 ? flags.n_predict : default_tokens;
  options.stop_at_end_of_generation = !flags.ignore_eos;

  const Tokenizer& tokenizer = model.tokenizer();
  StreamingDecoder decoder(tokenizer);
  bool first_id = true;
  const GenerateStats stats = generate_greedy(session, prompt_ids, options, [&](int32_t id) {
    if (flags.print_ids) {
      write_out((first_id ? "" : " ") + std::to_string(id));
      first_id = false;
    } else if (!(options.stop_at_end_of_generation && tokenizer.is_end_of_generation(id))) {
      write_out(decoder.push(id));
    }
    return true;
  });
  write_out(flags.print_ids ? "\n" : decoder.flush() + "\n");
  std::fprintf(stderr, "phirun: %s\n", summary_line(stats).c_str());
  return 0;
}

}  // namespace

int generate_command(int argc, char** argv) {
  CLI::App app{
      "Continue a text with the model, greedily, streaming tokens as they come.\n"
      "Example: phirun generate -p \"Once upon a time\" -n 64",
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
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  const std::string text = read_prompt(flags.prompt, flags.prompt_file);
  if (text.empty()) throw std::runtime_error("no prompt: give one with -p TEXT or -f FILE");
  const auto model = load_model(flags.model);
  const std::vector<int32_t> ids = model->tokenizer().encode(text, !flags.no_special);
  if (ids.empty()) throw std::runtime_error("the prompt encodes to no tokens");
  return run_generation(*model, flags.model, ids, flags, 256);
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
  return run_generation(*model, flags.model, ids, flags, 512);
}

}  // namespace phirun::cli
