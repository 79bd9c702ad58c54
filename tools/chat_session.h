// A conversation with the model that keeps its KV cache across turns: each turn renders the whole
// conversation with the model's chat template, keeps the longest token prefix the cache already
// holds, and runs only the rest. When the conversation outgrows the context the oldest turns are
// dropped (the system prompt stays), or the turn is refused with context shift off.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/generator.h"
#include "runtime/model.h"
#include "tokenizer/chat_template.h"

namespace phirun::cli {

struct ChatSettings {
  int64_t max_answer_tokens = 512;  // an answer stops after this many tokens
  bool context_shift = true;        // drop the oldest turns when the context is full
};

// The conversation does not fit in the context and context shift is off.
class ContextFullError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TurnResult {
  std::string text;              // the answer as shown: no end token, stop strings cut out
  int64_t answer_tokens = 0;     // tokens generated, an end token included
  int64_t prompt_tokens = 0;     // the rendered conversation, in tokens
  int64_t processed_tokens = 0;  // of those, run through the model in this turn
  int64_t reused_tokens = 0;     // of those, found in the KV cache (prompt - processed)
  double prompt_seconds = 0.0;
  double decode_seconds = 0.0;
  int dropped_turns = 0;  // oldest turns dropped to make room before this one
  std::string stop;       // why the answer ended: "end token", "stop string", "answer limit", ...
};

// The token ids of `messages` rendered by the model's template with the assistant's header, as
// transformers' apply_chat_template(tokenize=True) makes them.
std::vector<int32_t> chat_prompt_tokens(const Model& model, const ChatTemplate& chat_template,
                                        const std::vector<ChatMessage>& messages);

class ChatSession {
 public:
  // `params` are the search options (one sequence, no beams); max_length is the context.
  ChatSession(const Model& model, const GeneratorParams& params, const ChatSettings& settings);

  // Adds the user's message and answers it, passing each piece of the answer to on_text as it
  // comes. Stops early (stop "interrupted") once `interrupt` is set; set while the prompt is
  // still being read, it stops before the answer (stop "interrupted before the answer") and the
  // message is not kept. Throws std::runtime_error,
  // leaving the conversation as it was, when the template fails or the message cannot fit.
  TurnResult reply(const std::string& user_text, const std::function<void(const std::string&)>& on_text,
                   const std::atomic<bool>& interrupt);

  // Forgets every turn but the system prompt (the cache keeps what the next turn can reuse).
  void reset();
  // Sets the system prompt ("" removes it).
  void set_system(const std::string& text);
  std::string system() const;
  // Replaces the conversation (a loaded one); checks that the template renders it first.
  void replace_messages(std::vector<ChatMessage> messages);
  const std::vector<ChatMessage>& messages() const { return messages_; }

  int64_t context_length() const { return generator_->params().max_length; }
  int64_t cached_tokens() const { return generator_->kv_cache().length(0); }
  // The conversation's tokens as the template renders it now (with the assistant's header).
  std::vector<int32_t> render_tokens(const std::vector<ChatMessage>& messages) const;

 private:
  // Drops the oldest turns until `tokens` leaves room for an answer; returns how many went.
  int make_room(std::vector<int32_t>& tokens);
  // Keeps the cached prefix of `tokens` and runs the rest through the model; false when
  // `interrupt` stopped it first.
  bool load_prompt(const std::vector<int32_t>& tokens, const std::atomic<bool>& interrupt);

  static constexpr size_t kPromptChunkTokens = 256;
  TurnResult generate_answer(const std::function<void(const std::string&)>& on_text,
                             const std::atomic<bool>& interrupt);

  const Model& model_;
  ChatSettings settings_;
  ChatTemplate template_;
  std::unique_ptr<Generator> generator_;
  std::vector<ChatMessage> messages_;
};

}  // namespace phirun::cli
