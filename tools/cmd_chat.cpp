// `phirun chat`: one question with -p, or a conversation read from the terminal or a pipe, each
// turn formatted with the model's own chat template and the KV cache kept across turns.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "tokenizer/chat_template.h"
#include "tools/chat_repl.h"
#include "tools/chat_session.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "tools/search_flags.h"

namespace phirun::cli {

namespace {

struct ChatFlags {
  ModelFlags model;
  SearchFlags search;
  std::string prompt;
  std::string prompt_file;
  std::string system;
  int64_t n_predict = 512;
  bool print_ids = false;
  bool json = false;
  bool verbose = false;
  bool no_context_shift = false;
};

// Set by SIGINT (Ctrl-C); the answer loop and the input wait check it. A lock-free atomic is
// safe to store from a signal handler.
std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) { g_interrupted.store(true); }

void catch_interrupts() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // writes to stdout go on; the input wait uses poll, which is not restarted
  if (sigaction(SIGINT, &action, nullptr) != 0) throw std::runtime_error("cannot install the Ctrl-C handler");
}

// -p without --json: the answer streamed as `generate` prints it (beam search and --ids included).
int answer_once(const Model& model, const ChatFlags& flags, const std::string& question) {
  std::vector<ChatMessage> messages;
  if (!flags.system.empty()) messages.push_back({"system", flags.system});
  messages.push_back({"user", question});
  const std::vector<int32_t> ids = chat_prompt_tokens(model, ChatTemplate(model.chat_template()), messages);
  const GeneratorParams run = generator_params(model, flags.model, flags.search, int64_t(ids.size()),
                                               std::max<int64_t>(flags.n_predict, 1), true);
  if (flags.n_predict == 0 && !flags.search.max_length) {
    std::fputs("\n", stdout);
    return 0;
  }
  run_and_print(model, run, ids, OutputOptions{flags.print_ids});
  return 0;
}

}  // namespace

int chat_command(int argc, char** argv) {
  CLI::App app{
      "Chat with the model, each turn formatted with its own chat template. With -p, answer one\n"
      "question. Without, read messages from the terminal (answers stream; Ctrl-C stops one; /help\n"
      "lists the commands) or, when stdin is not a terminal, one message per line.\n"
      "Example: phirun chat -p \"What is the capital of France?\"",
      "phirun chat"};
  ChatFlags flags;
  add_model_flags(app, flags.model);
  app.add_option("-p,--prompt", flags.prompt, "one question: answer it and exit");
  app.add_option("-f,--file", flags.prompt_file, "read the one question from a file");
  app.add_option("--system", flags.system, "a system message (default: the template's own, if any)");
  app.add_option("-n,--n-predict", flags.n_predict, "most tokens in an answer (default 512)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  app.add_flag("--ids", flags.print_ids, "print the answer's token ids instead of text (with -p)");
  app.add_flag("--json", flags.json, "print each answer as one JSON object (text, tokens, timings)");
  app.add_flag("--verbose", flags.verbose, "after each answer, how many prompt tokens the cache held and the speed");
  app.add_flag("--no-context-shift", flags.no_context_shift,
               "when the conversation outgrows the context, stop instead of dropping the oldest turns");
  add_search_flags(app, flags.search);
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  const std::string question = read_prompt(flags.prompt, flags.prompt_file);
  const bool one_question = !flags.prompt.empty() || !flags.prompt_file.empty();
  if (one_question && question.empty()) throw std::runtime_error("the question is empty");
  if (flags.print_ids && (!one_question || flags.json)) throw std::runtime_error("--ids works with -p, without --json");
  const auto model = load_model(flags.model);
  if (one_question && !flags.json) return answer_once(*model, flags, question);

  ChatSettings settings;
  settings.max_answer_tokens = std::max<int64_t>(flags.n_predict, 1);
  settings.context_shift = !flags.no_context_shift;
  // max_length is the whole context: the conversation grows into it turn by turn.
  const GeneratorParams params =
      generator_params(*model, flags.model, flags.search, 0, std::numeric_limits<int32_t>::max(), true);
  ChatSession session(*model, params, settings);
  if (!flags.system.empty()) session.set_system(flags.system);

  if (one_question) {
    const TurnResult turn = session.reply(
        question, [](const std::string&) {}, g_interrupted);
    std::printf("%s\n", turn_json(turn).c_str());
    return 0;
  }
  ChatLoopOptions options;
  options.interactive = ::isatty(STDIN_FILENO) == 1;
  options.json = flags.json;
  options.verbose = flags.verbose;
  options.model_name = flags.model.model_path.empty()
                           ? "the default model"
                           : std::filesystem::path(flags.model.model_path).filename().string();
  if (options.interactive) catch_interrupts();
  return run_chat_loop(session, options, g_interrupted);
}

}  // namespace phirun::cli
