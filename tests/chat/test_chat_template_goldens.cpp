// Real chat templates (SmolLM2, Phi-3, Phi-3.5, Phi-4-mini, Llama 3.1/3.2, Mistral Nemo, Qwen2.5,
// Gemma 2, Qwen3, SmolLM3) rendered through render_chat against Python's jinja2 as transformers
// runs it, byte for byte: 15 conversations each (system or not, several turns, tools, a tool call
// and its result, reasoning off, conversations the templates reject), with and without the
// generation prompt.
#include <gtest/gtest.h>

#include <cctype>

#include "tests/chat/fixtures.h"
#include "tokenizer/chat_template.h"

namespace phirun {
namespace {

using nlohmann::ordered_json;

std::vector<ChatMessage> messages_from_json(const ordered_json& messages) {
  std::vector<ChatMessage> out;
  for (const ordered_json& m : messages) {
    ChatMessage message;
    for (const auto& [key, value] : m.items()) {
      if (key == "role") {
        message.role = value.get<std::string>();
      } else if (key == "content") {
        message.content = value.get<std::string>();
      } else if (key == "tool_calls") {
        for (const ordered_json& call : value) {
          EXPECT_EQ(call.at("type"), "function");
          message.tool_calls.push_back({call.value("id", ""), call.at("function").at("name").get<std::string>(),
                                        call.at("function").at("arguments").dump()});
        }
      } else if (key == "tool_call_id") {
        message.tool_call_id = value.get<std::string>();
      } else if (key == "name") {
        message.name = value.get<std::string>();
      } else {
        message.extra_fields_json.emplace_back(key, value.dump());
      }
    }
    out.push_back(std::move(message));
  }
  return out;
}

const ordered_json& renderings() {
  static const ordered_json fixture = testing::read_chat_fixture("renderings.json");
  return fixture;
}

class ChatTemplateGoldens : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateGoldens, RendersLikeTransformers) {
  const ordered_json& fixture = renderings();
  const std::string template_name = GetParam();
  const ordered_json& info = fixture.at("templates").at(template_name);
  const std::string template_text = testing::read_chat_template(info.at("file").get<std::string>());
  int checked = 0;
  for (const ordered_json& c : fixture.at("cases")) {
    if (c.at("template") != template_name) continue;
    const std::string conversation_name = c.at("conversation").get<std::string>();
    const bool add_generation_prompt = c.at("add_generation_prompt").get<bool>();
    SCOPED_TRACE(template_name + " / " + conversation_name + (add_generation_prompt ? " / generation prompt" : ""));
    const ordered_json& conversation = fixture.at("conversations").at(conversation_name);
    const std::vector<ChatMessage> messages = messages_from_json(conversation.at("messages"));
    ChatTemplateOptions options;
    options.add_generation_prompt = add_generation_prompt;
    if (!info.at("bos_token").is_null()) options.bos_token = info.at("bos_token").get<std::string>();
    if (!info.at("eos_token").is_null()) options.eos_token = info.at("eos_token").get<std::string>();
    if (!conversation.at("tools").is_null()) options.tools_json = conversation.at("tools").dump();
    for (const auto& [name, value] : fixture.at("extra_variables").items())
      options.extra_variables_json.emplace_back(name, value.dump());
    for (const auto& [name, value] : conversation.at("variables").items())
      options.extra_variables_json.emplace_back(name, value.dump());
    ++checked;
    if (c.contains("output")) {
      EXPECT_EQ(render_chat(template_text, messages, options), c.at("output").get<std::string>());
      continue;
    }
    // jinja2 failed; so must we. A template's own raise_exception message comes through word for word.
    try {
      const std::string output = render_chat(template_text, messages, options);
      ADD_FAILURE() << "rendered, but jinja2 failed with: " << c.at("error") << "\noutput: " << output;
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      if (c.at("raised").get<bool>()) {
        EXPECT_NE(message.find("the template raised an error: " + c.at("error").get<std::string>()), std::string::npos)
            << message;
      } else {
        EXPECT_EQ(message.rfind("chat template: line ", 0), 0u) << message;
      }
    }
  }
  EXPECT_EQ(checked, 30);  // 15 conversations, with and without the generation prompt
}

INSTANTIATE_TEST_SUITE_P(RealTemplates, ChatTemplateGoldens,
                         ::testing::Values("smollm2", "phi-3", "phi-3.5-mini", "phi-4-mini", "llama-3.1", "llama-3.2",
                                           "mistral-nemo", "qwen2.5", "gemma-2", "qwen3", "smollm3"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;  // test names are letters, digits and _
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace phirun
