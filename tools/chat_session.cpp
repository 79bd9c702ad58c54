// ChatSession: one turn is render -> tokenize -> keep the cached prefix -> run the rest -> stream
// the answer. The Generator holds the one sequence; rewind_to() cuts it back to the common prefix.
#include "tools/chat_session.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "tokenizer/streaming_decoder.h"
#include "tools/stop_string_filter.h"

namespace phirun::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The index of the first message after the system prompt that starts a turn (a user message),
// or messages.size() when there is none.
size_t first_turn(const std::vector<ChatMessage>& messages) {
  size_t at = !messages.empty() && messages[0].role == "system" ? 1 : 0;
  while (at < messages.size() && messages[at].role != "user") ++at;
  return at;
}

}  // namespace

ChatSession::ChatSession(const Model& model, const GeneratorParams& params, const ChatSettings& settings)
    : model_(model), settings_(settings), template_(model.chat_template()) {
  if (params.num_beams > 1 || params.num_return_sequences > 1 || params.batch_size > 1)
    throw std::runtime_error("chat answers with one sequence: beam search and several return sequences work with -p");
  generator_ = std::make_unique<Generator>(model, params);
}

std::vector<int32_t> chat_prompt_tokens(const Model& model, const ChatTemplate& chat_template,
                                        const std::vector<ChatMessage>& messages) {
  // The template sees the texts of the model's BOS and EOS tokens, as transformers passes them.
  const TokenizerVocab& vocab = model.tokenizer().vocab();
  ChatTemplateOptions options;
  if (vocab.bos_id >= 0) options.bos_token = model.tokenizer().token_bytes(vocab.bos_id);
  if (vocab.eos_id >= 0) options.eos_token = model.tokenizer().token_bytes(vocab.eos_id);
  const std::string prompt = chat_template.render(messages, options);
  // Special-token text is parsed, as Hugging Face's tokenizer does for a rendered chat (the
  // user's text too). transformers adds no special tokens (templates that want a BOS write
  // bos_token themselves), so the BOS that encode() adds for an add_bos vocabulary is taken off.
  std::vector<int32_t> ids = model.tokenizer().encode(prompt, true);
  if (vocab.add_bos && !ids.empty() && ids.front() == vocab.bos_id) ids.erase(ids.begin());
  if (ids.empty()) throw std::runtime_error("the chat template rendered the conversation as no tokens");
  return ids;
}

std::vector<int32_t> ChatSession::render_tokens(const std::vector<ChatMessage>& messages) const {
  return chat_prompt_tokens(model_, template_, messages);
}

int ChatSession::make_room(std::vector<int32_t>& tokens) {
  const int64_t context = context_length();
  // Room for at least a short answer: a quarter of the context, or the whole answer limit if less.
  const int64_t answer_room = std::max<int64_t>(1, std::min(settings_.max_answer_tokens, context / 4));
  const auto needed = [&] { return int64_t(tokens.size()) + answer_room; };
  int dropped = 0;
  while (needed() > context) {
    const size_t oldest = first_turn(messages_);
    const bool only_this_turn = oldest + 1 >= messages_.size();
    if (only_this_turn || !settings_.context_shift) {
      const std::string sizes = std::to_string(tokens.size()) + " tokens and room for an answer (" +
                                std::to_string(answer_room) + ") but the context holds " + std::to_string(context);
      const int64_t trained = model_.config().context_length;
      if (only_this_turn)
        throw std::runtime_error(
            "this message is too long: the prompt would take " + sizes +
            (needed() <= trained
                 ? " (shorten it, or raise -c up to the model's " + std::to_string(trained) + ")"
                 : " (shorten it: the model's whole context is " + std::to_string(trained) + " tokens)"));
      throw ContextFullError("the context is full: the conversation would take " + sizes +
                             "; /reset starts over (--no-context-shift is on, so no turns are dropped)");
    }
    // A turn is the user's message and every message up to the next user message.
    size_t end = oldest + 1;
    while (end < messages_.size() && messages_[end].role != "user") ++end;
    messages_.erase(messages_.begin() + std::ptrdiff_t(oldest), messages_.begin() + std::ptrdiff_t(end));
    ++dropped;
    tokens = render_tokens(messages_);
  }
  return dropped;
}

bool ChatSession::load_prompt(const std::vector<int32_t>& tokens, const std::atomic<bool>& interrupt) {
  const std::span<const int32_t> held = generator_->sequence(0);
  size_t common = 0;
  while (common < held.size() && common < tokens.size() && held[common] == tokens[common]) ++common;
  // At least the last token is run again: its logits choose the answer's first token (and a
  // finished sequence cannot go on without new tokens).
  if (common == tokens.size()) --common;
  if (common < held.size()) generator_->rewind_to(int64_t(common));
  // In chunks, so that Ctrl-C during a long prompt stops within one chunk's time; whatever was
  // computed stays in the cache for the next turn to reuse.
  for (size_t at = common; at < tokens.size(); at += kPromptChunkTokens) {
    if (interrupt.load()) return false;
    const size_t count = std::min(kPromptChunkTokens, tokens.size() - at);
    generator_->append_tokens(std::span<const int32_t>(tokens).subspan(at, count));
    generator_->logits();
  }
  return !interrupt.load();
}

TurnResult ChatSession::reply(const std::string& user_text, const std::function<void(const std::string&)>& on_text,
                              const std::atomic<bool>& interrupt) {
  const std::vector<ChatMessage> before = messages_;
  TurnResult result;
  try {
    messages_.push_back({"user", user_text});
    std::vector<int32_t> tokens = render_tokens(messages_);
    result.dropped_turns = make_room(tokens);
    result.prompt_tokens = int64_t(tokens.size());
    const auto prompt_start = Clock::now();
    const int64_t computed_before = generator_->tokens_computed();
    const bool loaded = load_prompt(tokens, interrupt);
    result.processed_tokens = generator_->tokens_computed() - computed_before;
    result.reused_tokens = result.prompt_tokens - result.processed_tokens;
    result.prompt_seconds = seconds_since(prompt_start);
    if (!loaded) {  // stopped before the answer began: the message is not part of the conversation
      messages_ = before;
      result.stop = "interrupted before the answer";
      return result;
    }
  } catch (...) {
    messages_ = before;
    throw;
  }
  const TurnResult answer = generate_answer(on_text, interrupt);
  result.text = answer.text;
  result.answer_tokens = answer.answer_tokens;
  result.decode_seconds = answer.decode_seconds;
  result.stop = answer.stop;
  // The answer joins the conversation as shown, even when cut short: the next turn renders it and
  // the cache keeps whatever of it still matches.
  messages_.push_back({"assistant", result.text});
  return result;
}

TurnResult ChatSession::generate_answer(const std::function<void(const std::string&)>& on_text,
                                        const std::atomic<bool>& interrupt) {
  TurnResult result;
  const auto& stop_ids = generator_->params().stop_token_ids;
  StreamingDecoder decoder(model_.tokenizer());
  StopStringFilter filter(generator_->params().stop_strings);
  const auto show = [&](const std::string& text) {
    if (text.empty()) return;
    result.text += text;
    on_text(text);
  };
  const auto decode_start = Clock::now();
  while (!generator_->is_done()) {
    if (interrupt.load()) {
      result.stop = "interrupted";
      break;
    }
    if (result.answer_tokens >= settings_.max_answer_tokens) {
      result.stop = "answer limit (-n " + std::to_string(settings_.max_answer_tokens) + ")";
      break;
    }
    generator_->generate_next_token();
    ++result.answer_tokens;
    const int32_t id = generator_->sequence(0).back();
    if (std::find(stop_ids.begin(), stop_ids.end(), id) == stop_ids.end() && !filter.stopped())
      show(filter.push(decoder.push(id)));
  }
  show(filter.push(decoder.flush()) + filter.flush());
  result.decode_seconds = seconds_since(decode_start);
  if (result.stop.empty()) {
    switch (generator_->finish_reason(0)) {
      case FinishReason::EndToken:
        result.stop = "end token";
        break;
      case FinishReason::StopString:
        result.stop = "stop string";
        break;
      default:
        result.stop = "context full (the next turn drops the oldest turns)";
        break;
    }
  }
  return result;
}

void ChatSession::reset() {
  std::vector<ChatMessage> kept;
  if (!messages_.empty() && messages_[0].role == "system") kept.push_back(messages_[0]);
  messages_ = std::move(kept);
}

std::string ChatSession::system() const {
  return !messages_.empty() && messages_[0].role == "system" ? messages_[0].content.value_or("") : "";
}

void ChatSession::set_system(const std::string& text) {
  const bool has_system = !messages_.empty() && messages_[0].role == "system";
  if (text.empty()) {
    if (has_system) messages_.erase(messages_.begin());
  } else if (has_system) {
    messages_[0].content = text;
  } else {
    messages_.insert(messages_.begin(), ChatMessage{"system", text});
  }
}

void ChatSession::replace_messages(std::vector<ChatMessage> messages) {
  render_tokens(messages);  // throws, leaving the conversation as it was, when it does not render
  messages_ = std::move(messages);
}

}  // namespace phirun::cli
