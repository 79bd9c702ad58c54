// Chat prompts rendered with the model's own template (tokenizer.chat_template), by phirun's Jinja
// interpreter, with the variables transformers' apply_chat_template gives it: messages, tools,
// documents, add_generation_prompt, bos_token, eos_token and any extras (date_string, ...).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phirun {

namespace jinja {
class Template;
}

struct ChatToolCall {
  std::string id;              // "" when the call has none
  std::string name;            // the function called
  std::string arguments_json;  // its arguments as JSON (an object), as the model wrote them
};

struct ChatMessage {
  ChatMessage() = default;
  ChatMessage(std::string role_, std::optional<std::string> content_)
      : role(std::move(role_)), content(std::move(content_)) {}

  std::string role;                    // "system", "user", "assistant", "tool", ...
  std::optional<std::string> content;  // absent for an assistant turn that only calls tools
  std::vector<ChatToolCall> tool_calls;
  std::string tool_call_id;  // a tool result: the id of the call it answers ("" for none)
  std::string name;          // a tool result: the tool's name ("" for none)
  // More fields of the message, each a JSON value, e.g. Phi-4-mini's system message carries its
  // tools as {"tools", "\"[{...}]\""} (a JSON string holding JSON).
  std::vector<std::pair<std::string, std::string>> extra_fields_json;
};

struct ChatTemplateOptions {
  bool add_generation_prompt = true;  // end with the header of the assistant's turn
  std::string bos_token;              // the texts of the model's BOS and EOS tokens ("" for none)
  std::string eos_token;
  std::string tools_json;  // a JSON array of tool schemas; "" means no tools (the template sees none)
  // More variables, each as a JSON value: {"date_string", "\"26 Jul 2024\""}, {"enable_thinking", "false"}.
  std::vector<std::pair<std::string, std::string>> extra_variables_json;
};

// Renders `messages` with `template_text` as transformers would, byte for byte. Throws
// std::runtime_error starting "chat template: ": for a missing template, a template phirun cannot
// parse or run (naming the construct and its line and column), bad JSON in the options or tool
// calls, or text that is not UTF-8. A template that raises an error itself (raise_exception, e.g.
// "Conversation roles must alternate user/assistant/...") gives its own message.
std::string render_chat(std::string_view template_text, std::span<const ChatMessage> messages,
                        const ChatTemplateOptions& options);
std::string render_chat(std::string_view template_text, std::span<const ChatMessage> messages,
                        bool add_generation_prompt);

// A template parsed once and rendered for each turn of a conversation. The constructor throws as
// render_chat does for a missing template or one that does not parse.
class ChatTemplate {
 public:
  explicit ChatTemplate(std::string_view template_text);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  std::string render(std::span<const ChatMessage> messages, const ChatTemplateOptions& options) const;

 private:
  std::unique_ptr<const jinja::Template> template_;
};

// Whether phirun can render the template: "renders" when it parses and renders a one-question
// conversation, else the reason it cannot (for `phirun info`).
std::string chat_template_status(std::string_view template_text);

}  // namespace phirun
