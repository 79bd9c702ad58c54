// The conversation loop of `phirun chat` without -p: messages and /commands from standard input,
// typed at a terminal (a prompt, streamed answers, Ctrl-C stops an answer) or piped in by a script
// (each line a turn, answers on stdout as text or one JSON object each).
#pragma once

#include <atomic>

#include "tools/chat_session.h"

namespace phirun::cli {

struct ChatLoopOptions {
  bool interactive = false;  // a terminal: prompts, a banner, Ctrl-C handling
  bool json = false;         // one JSON object per answer on stdout
  bool verbose = false;      // a line of cache and speed figures after each answer
  std::string model_name;    // for the banner
};

// Runs until the end of input or /exit. Returns the exit code: 0, or 1 when reading from a pipe
// and a turn failed (the chat went on past it) or the context filled with context shift off.
// `interrupt` is the flag the SIGINT handler sets; the loop clears it before each turn.
int run_chat_loop(ChatSession& session, const ChatLoopOptions& options, std::atomic<bool>& interrupt);

// One answer as a JSON object on one line: text, tokens, prompt/reused/processed tokens, timings.
std::string turn_json(const TurnResult& turn);

}  // namespace phirun::cli
