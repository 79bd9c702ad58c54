// A conversation saved as JSON by `/save` and read back by `/load`:
//   {"format": "phirun-chat", "version": 1, "messages": [{"role": "user", "content": "..."}, ...]}
// A bare array of messages (the shape of Hugging Face's `messages`) loads too.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/chat_template.h"

namespace phirun::cli {

// Writes through a temporary file renamed into place, so a failed save leaves no half-written
// file. Throws std::runtime_error("FILE: problem").
void save_conversation(const std::string& path, const std::vector<ChatMessage>& messages);

// Throws std::runtime_error("FILE: problem") for a missing file, bad JSON, or messages that are
// not objects with a string "role" and a string "content".
std::vector<ChatMessage> load_conversation(const std::string& path);
// The same checks on a transcript already read; `path` names it in errors (the fuzz target's
// entry point).
std::vector<ChatMessage> parse_conversation(const std::string& text, const std::string& path);

}  // namespace phirun::cli
