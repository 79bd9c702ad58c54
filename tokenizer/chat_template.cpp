// Turns a conversation into the template's variables (the dicts transformers would pass: None
// values dropped, tool calls as {"id", "type", "function": {"name", "arguments"}}) and renders it.
#include "tokenizer/chat_template.h"

#include <stdexcept>

#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/utf8.h"

namespace phirun {

namespace {

using jinja::Dict;
using jinja::Value;

Value text_value(const std::string& text, const std::string& what) {
  require_valid_utf8(text, "chat template: " + what);
  return Value(text);
}

Value message_value(const ChatMessage& message, size_t index) {
  const std::string where = "message " + std::to_string(index);
  Dict dict;
  dict.set("role", text_value(message.role, where + " role"));
  if (message.content) dict.set("content", text_value(*message.content, where + " content"));
  if (!message.tool_calls.empty()) {
    std::vector<Value> calls;
    for (size_t i = 0; i < message.tool_calls.size(); ++i) {
      const ChatToolCall& call = message.tool_calls[i];
      const std::string call_where = where + " tool call " + std::to_string(i);
      Dict function;
      function.set("name", text_value(call.name, call_where + " name"));
      function.set("arguments", jinja::parse_json(call.arguments_json, "chat template: " + call_where + " arguments"));
      Dict entry;
      if (!call.id.empty()) entry.set("id", text_value(call.id, call_where + " id"));
      entry.set("type", Value("function"));
      entry.set("function", Value::dict(std::move(function)));
      calls.push_back(Value::dict(std::move(entry)));
    }
    dict.set("tool_calls", Value::list(std::move(calls)));
  }
  if (!message.tool_call_id.empty())
    dict.set("tool_call_id", text_value(message.tool_call_id, where + " tool_call_id"));
  if (!message.name.empty()) dict.set("name", text_value(message.name, where + " name"));
  for (const auto& [field, json] : message.extra_fields_json)
    dict.set(field, jinja::parse_json(json, "chat template: " + where + " field " + field));
  return Value::dict(std::move(dict));
}

Dict template_variables(std::span<const ChatMessage> messages, const ChatTemplateOptions& options) {
  Dict variables;
  std::vector<Value> message_values;
  for (size_t i = 0; i < messages.size(); ++i) message_values.push_back(message_value(messages[i], i));
  variables.set("messages", Value::list(std::move(message_values)));
  variables.set("tools", options.tools_json.empty() ? Value::none()
                                                    : jinja::parse_json(options.tools_json, "chat template: tools"));
  variables.set("documents", Value::none());
  variables.set("add_generation_prompt", Value(options.add_generation_prompt));
  // transformers passes the special tokens the tokenizer has; a missing one stays undefined.
  if (!options.bos_token.empty()) variables.set("bos_token", text_value(options.bos_token, "bos_token"));
  if (!options.eos_token.empty()) variables.set("eos_token", text_value(options.eos_token, "eos_token"));
  for (const auto& [name, json] : options.extra_variables_json)
    variables.set(name, jinja::parse_json(json, "chat template: variable " + name));
  return variables;
}

// Runs `step`, giving every error the "chat template: " prefix callers show.
template <typename Step>
auto with_chat_template_errors(Step&& step) {
  try {
    return step();
  } catch (const jinja::TemplateError& error) {
    throw std::runtime_error(std::string("chat template: ") + error.what());
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    if (message.rfind("chat template", 0) == 0) throw;
    throw std::runtime_error("chat template: " + message);
  }
}

}  // namespace

ChatTemplate::ChatTemplate(std::string_view template_text) {
  if (template_text.empty())
    throw std::runtime_error(
        "chat template: the model has none (tokenizer.chat_template); use `phirun generate` with a prompt "
        "formatted by hand");
  template_ = with_chat_template_errors([&] { return std::make_unique<const jinja::Template>(template_text); });
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(std::span<const ChatMessage> messages, const ChatTemplateOptions& options) const {
  return with_chat_template_errors([&] { return template_->render(template_variables(messages, options)); });
}

std::string render_chat(std::string_view template_text, std::span<const ChatMessage> messages,
                        const ChatTemplateOptions& options) {
  return ChatTemplate(template_text).render(messages, options);
}

std::string render_chat(std::string_view template_text, std::span<const ChatMessage> messages,
                        bool add_generation_prompt) {
  ChatTemplateOptions options;
  options.add_generation_prompt = add_generation_prompt;
  return render_chat(template_text, messages, options);
}

std::string chat_template_status(std::string_view template_text) {
  const ChatMessage question("user", "What is the capital of France?");
  try {
    render_chat(template_text, std::span(&question, 1), true);
    return "renders";
  } catch (const std::runtime_error& error) {
    std::string reason = error.what();
    const std::string prefix = "chat template: ";
    if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
    return "cannot render: " + reason;
  }
}

}  // namespace phirun
