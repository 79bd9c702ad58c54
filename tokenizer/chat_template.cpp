// Known chat templates, matched on their exact text. Each renderer reproduces its Jinja
// template's output byte for byte (tests compare with Python's jinja2 renderings).
#include "tokenizer/chat_template.h"

#include <stdexcept>

namespace phirun {

namespace {

// SmolLM2-Instruct's template (tokenizer_config.json of HuggingFaceTB/SmolLM2-*-Instruct):
// ChatML, with a default system message inserted when the conversation has none.
constexpr std::string_view kSmolLM2Template =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}";

std::string render_smollm2(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string prompt;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0 && messages[0].role != "system")
      prompt += "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n";
    prompt += "<|im_start|>" + messages[i].role + "\n" + messages[i].content + "<|im_end|>\n";
  }
  if (add_generation_prompt) prompt += "<|im_start|>assistant\n";
  return prompt;
}

}  // namespace

std::string_view recognize_chat_template(std::string_view template_text) {
  if (template_text == kSmolLM2Template) return "smollm2-chatml";
  return "";
}

std::string render_chat(std::string_view template_text, std::span<const ChatMessage> messages,
                        bool add_generation_prompt) {
  if (template_text.empty())
    throw std::runtime_error(
        "the model has no chat template (tokenizer.chat_template); use `phirun generate` "
        "with a prompt formatted by hand");
  if (recognize_chat_template(template_text) == "smollm2-chatml")
    return render_smollm2(messages, add_generation_prompt);
  throw std::runtime_error(
      "the model's chat template is not one phirun can render yet (it renders SmolLM2's ChatML template; "
      "general Jinja templates come later); use `phirun generate` with a prompt formatted by hand");
}

}  // namespace phirun
