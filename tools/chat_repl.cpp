// The chat loop: read a message, check it, run a /command or a turn, print the answer and notes.
// Answers go to stdout; notes and errors to stderr with "phirun: " (and the line number when piped).
#include "tools/chat_repl.h"

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

#include "tokenizer/utf8.h"
#include "tools/chat_file.h"
#include "tools/line_input.h"

namespace phirun::cli {

namespace {

constexpr const char* kHelp =
    "Type a message and press Enter; the answer streams as it is generated.\n"
    "  a line ending in \\ continues on the next line; a line of \"\"\" opens and closes a block\n"
    "  Ctrl-C stops the answer; Ctrl-D (on an empty line) or /exit quits\n"
    "  //text sends a message that starts with /text\n"
    "commands:\n"
    "  /help          this text\n"
    "  /reset         forget the conversation (the system prompt stays)\n"
    "  /system TEXT   set the system prompt (/system alone shows it; /system - removes it)\n"
    "  /stats         tokens in the context and cache reuse, speed of the last answer\n"
    "  /save FILE     write the conversation as JSON\n"
    "  /load FILE     read a conversation written by /save (or a JSON array of messages)\n"
    "  /exit          quit\n";

double rate(int64_t tokens, double seconds) { return seconds > 0 ? double(tokens) / seconds : 0.0; }

// Decode speed as `generate` reports it: the first token comes from the prompt's pass, so an
// answer of n tokens took n - 1 forward passes.
double decode_rate(const TurnResult& turn) {
  return rate(std::max<int64_t>(turn.answer_tokens - 1, 0), turn.decode_seconds);
}

std::string turn_line(const TurnResult& turn) {
  char line[320];
  std::snprintf(line, sizeof line,
                "prompt %lld tokens: reused %lld cached tokens, processed %lld (%.1f tok/s) | answer %lld tokens "
                "(%.1f tok/s) | stop: %s",
                static_cast<long long>(turn.prompt_tokens), static_cast<long long>(turn.reused_tokens),
                static_cast<long long>(turn.processed_tokens), rate(turn.processed_tokens, turn.prompt_seconds),
                static_cast<long long>(turn.answer_tokens), decode_rate(turn), turn.stop.c_str());
  return line;
}

class ChatLoop {
 public:
  ChatLoop(ChatSession& session, const ChatLoopOptions& options, std::atomic<bool>& interrupt)
      : session_(session), options_(options), interrupt_(interrupt), input_(STDIN_FILENO, interrupt) {}

  int run();

 private:
  // Notes go to stderr, prefixed with the input line when piped so a script can find the turn.
  void note(const std::string& text) {
    if (options_.interactive)
      std::fprintf(stderr, "%s\n", text.c_str());
    else
      std::fprintf(stderr, "phirun: line %lld: %s\n", static_cast<long long>(input_.line_number()), text.c_str());
  }
  // A failed turn or command: a note, {"error": ...} in --json output, and exit code 1 when piped.
  void error(const std::string& text) {
    note(text);
    if (options_.json) emit_json({{"error", text}});
    failed_ = true;
  }
  // What a command prints: stdout at a terminal, stderr when piped (stdout holds only answers).
  void say(const std::string& text) {
    std::FILE* out = options_.interactive ? stdout : stderr;
    std::fputs(text.c_str(), out);
    std::fflush(out);
  }
  void emit_json(const nlohmann::json& object) {
    std::printf("%s\n", object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stdout);
  }
  void prompt(const char* text) {
    if (!options_.interactive) return;
    std::fputs(text, stdout);
    std::fflush(stdout);
  }

  bool command(const std::string& line);  // false: quit
  void turn(const std::string& text);
  std::string stats() const;

  ChatSession& session_;
  const ChatLoopOptions& options_;
  std::atomic<bool>& interrupt_;
  LineInput input_;
  bool failed_ = false;
  bool stop_ = false;  // piped input with context shift off: the context is full
  bool has_last_ = false;
  TurnResult last_;
  int64_t turns_ = 0, processed_total_ = 0, generated_total_ = 0;
};

int ChatLoop::run() {
  if (options_.interactive)
    std::fprintf(stderr,
                 "phirun chat with %s. Type a message; /help lists the commands. Ctrl-C stops an answer, Ctrl-D "
                 "quits.\n",
                 options_.model_name.c_str());
  std::string message;
  while (true) {
    prompt("> ");
    const InputResult result = input_.read_message(message, options_.interactive ? "... " : "");
    if (result == InputResult::End) {
      prompt("\n");
      break;
    }
    if (result == InputResult::Interrupted) {
      interrupt_.store(false);
      prompt("\n");
      note("(Ctrl-C: no answer to stop; /exit or Ctrl-D quits)");
      continue;
    }
    if (result == InputResult::TooLong) {
      error("the message is longer than " + std::to_string(LineInput::kMaxLineBytes >> 20) + " MiB: not sent");
      continue;
    }
    try {
      require_valid_utf8(message, "the message is not valid UTF-8");
    } catch (const std::runtime_error& bad) {
      error(std::string(bad.what()) + ": not sent");
      continue;
    }
    if (message.find_first_not_of(" \t\r\n") == std::string::npos) {
      note("empty message: nothing sent (type a message, or /help)");
      continue;
    }
    if (message[0] == '/' && message.compare(0, 2, "//") != 0) {
      if (!command(message)) break;
      continue;
    }
    turn(message[0] == '/' ? message.substr(1) : message);
    if (stop_) break;
  }
  return failed_ && !options_.interactive ? 1 : 0;
}

bool ChatLoop::command(const std::string& line) {
  const size_t space = line.find_first_of(" \t\n");
  const std::string name = line.substr(0, space);
  std::string argument = space == std::string::npos ? "" : line.substr(space + 1);
  while (!argument.empty() && (argument.back() == ' ' || argument.back() == '\n')) argument.pop_back();
  if (name == "/exit" || name == "/quit") return false;
  if (name == "/help") {
    say(kHelp);
  } else if (name == "/reset") {
    session_.reset();
    say("(conversation reset" + std::string(session_.system().empty() ? "" : "; the system prompt stays") + ")\n");
  } else if (name == "/system") {
    if (argument.empty()) {
      say(session_.system().empty() ? "(no system prompt)\n" : "system: " + session_.system() + "\n");
    } else {
      session_.set_system(argument == "-" ? "" : argument);
      say(argument == "-" ? "(system prompt removed)\n" : "(system prompt set)\n");
    }
  } else if (name == "/stats") {
    say(stats());
  } else if (name == "/save" || name == "/load") {
    if (argument.empty()) {
      error(name + " needs a file name: " + name + " FILE");
      return true;
    }
    try {
      if (name == "/save") {
        save_conversation(argument, session_.messages());
        say("(saved " + std::to_string(session_.messages().size()) + " messages to " + argument + ")\n");
      } else {
        session_.replace_messages(load_conversation(argument));
        say("(loaded " + std::to_string(session_.messages().size()) + " messages from " + argument + ")\n");
      }
    } catch (const std::runtime_error& failure) {
      error(failure.what());
    }
  } else {
    error("unknown command " + name + " (/help lists the commands; //text sends text starting with /)");
  }
  return true;
}

void ChatLoop::turn(const std::string& text) {
  interrupt_.store(false);
  const bool stream = !options_.json;
  TurnResult result;
  try {
    result = session_.reply(
        text,
        [&](const std::string& piece) {
          if (!stream) return;
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
        },
        interrupt_);
  } catch (const ContextFullError& full) {
    error(full.what());
    stop_ = !options_.interactive;
    return;
  } catch (const std::runtime_error& failure) {
    error(std::string(failure.what()) + " (the message was not sent)");
    return;
  }
  interrupt_.store(false);  // a Ctrl-C that stopped this answer is spent
  if (stream) std::fputs("\n", stdout);
  std::fflush(stdout);
  if (result.dropped_turns > 0)
    note(result.dropped_turns == 1
             ? std::string("(the context was full: dropped the oldest turn)")
             : "(the context was full: dropped the " + std::to_string(result.dropped_turns) + " oldest turns)");
  if (result.stop == "interrupted") note("(answer stopped)");
  if (result.stop == "interrupted before the answer") {
    note("(stopped while reading the prompt: the message was not sent)");
    return;
  }
  if (result.stop.rfind("context full", 0) == 0) note(std::string("(").append(result.stop).append(")"));
  if (options_.json) emit_json(nlohmann::json::parse(turn_json(result)));
  if (options_.verbose) note(std::string("[").append(turn_line(result)).append("]"));
  last_ = result;
  has_last_ = true;
  ++turns_;
  processed_total_ += result.processed_tokens;
  generated_total_ += result.answer_tokens;
}

std::string ChatLoop::stats() const {
  std::string text = "context: " + std::to_string(session_.cached_tokens()) + " of " +
                     std::to_string(session_.context_length()) + " tokens cached, " +
                     std::to_string(session_.messages().size()) + " messages\n";
  if (has_last_) text += "last turn: " + turn_line(last_) + "\n";
  text += "all turns: " + std::to_string(turns_) + " answered, " + std::to_string(processed_total_) +
          " prompt tokens processed, " + std::to_string(generated_total_) + " generated\n";
  return text;
}

}  // namespace

std::string turn_json(const TurnResult& turn) {
  const nlohmann::json object = {{"text", turn.text},
                                 {"tokens", turn.answer_tokens},
                                 {"prompt_tokens", turn.prompt_tokens},
                                 {"reused_tokens", turn.reused_tokens},
                                 {"processed_tokens", turn.processed_tokens},
                                 {"dropped_turns", turn.dropped_turns},
                                 {"prompt_seconds", turn.prompt_seconds},
                                 {"decode_seconds", turn.decode_seconds},
                                 {"prompt_tokens_per_second", rate(turn.processed_tokens, turn.prompt_seconds)},
                                 {"tokens_per_second", decode_rate(turn)},
                                 {"stop", turn.stop}};
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_chat_loop(ChatSession& session, const ChatLoopOptions& options, std::atomic<bool>& interrupt) {
  ChatLoop loop(session, options, interrupt);
  return loop.run();
}

}  // namespace phirun::cli
