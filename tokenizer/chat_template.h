// Chat prompts rendered with the model's own template. Until phirun has a Jinja interpreter,
// only templates it knows byte for byte are rendered; any other is an error, never a guess.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace phirun {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

// The name of a template phirun can render ("smollm2-chatml"), or "" when it cannot.
std::string_view recognize_chat_template(std::string_view template_text);

// Renders `messages` as `template_text` would (with add_generation_prompt). Throws
// std::runtime_error when the template is missing or not one phirun knows.
std::string render_chat(std::string_view template_text, std::span<const ChatMessage> messages,
                        bool add_generation_prompt);

}  // namespace phirun
