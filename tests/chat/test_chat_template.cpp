// The chat_template API: variables as transformers passes them, options, and the errors a caller
// sees for a missing or broken template, bad JSON and text that is not UTF-8.
#include <gtest/gtest.h>

#include "tests/chat/fixtures.h"
#include "tokenizer/chat_template.h"

namespace phirun {
namespace {

std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(no error)";
}

const std::string& smollm2_template() {
  static const std::string text = testing::read_chat_template("smollm2.jinja");
  return text;
}

TEST(ChatTemplate, SmolLM2AddsItsDefaultSystemPrompt) {
  const std::vector<ChatMessage> question = {{"user", "What is the capital of France?"}};
  EXPECT_EQ(render_chat(smollm2_template(), question, true),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n");
  const std::vector<ChatMessage> with_system = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello."}};
  EXPECT_EQ(render_chat(smollm2_template(), with_system, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello.<|im_end|>\n");
}

TEST(ChatTemplate, VariablesAreThoseTransformersPasses) {
  const std::string probe =
      "{{ messages|length }} {{ tools }} {{ documents }} {{ add_generation_prompt }} [{{ bos_token }}] "
      "{{ eos_token is defined }} {{ messages[0] }} {{ today }}";
  ChatTemplateOptions options;
  options.bos_token = "<s>";
  options.add_generation_prompt = false;
  options.extra_variables_json = {{"today", "\"09 Dec 2024\""}};
  const std::vector<ChatMessage> messages = {{"user", "hi"}};
  // No eos_token given: the template sees it undefined, as transformers leaves out special tokens
  // the tokenizer does not have.
  EXPECT_EQ(render_chat(probe, messages, options),
            "1 None None False [<s>] False {'role': 'user', 'content': 'hi'} 09 Dec 2024");
}

TEST(ChatTemplate, ToolCallsAndResultsAsTransformersDicts) {
  ChatMessage call("assistant", std::nullopt);
  call.tool_calls.push_back({"call12345", "get_weather", R"({"city": "Paris", "days": [1, 2]})"});
  ChatMessage result("tool", "{\"temp\": 22}");
  result.tool_call_id = "call12345";
  result.name = "get_weather";
  const std::vector<ChatMessage> messages = {{"user", "weather?"}, call, result};
  EXPECT_EQ(render_chat("{% for m in messages %}{{ m|tojson }}\n{% endfor %}", messages, true),
            "{\"role\": \"user\", \"content\": \"weather?\"}\n"
            "{\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"call12345\", \"type\": \"function\", "
            "\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}}]}\n"
            "{\"role\": \"tool\", \"content\": \"{\\\"temp\\\": 22}\", \"tool_call_id\": \"call12345\", "
            "\"name\": \"get_weather\"}\n");
  ChatTemplateOptions options;
  options.tools_json = R"([{"type": "function", "function": {"name": "get_weather"}}])";
  EXPECT_EQ(render_chat("{{ tools[0].function.name }} {{ tools|length }}", messages, options), "get_weather 1");
}

TEST(ChatTemplate, TheTemplatesOwnErrorComesThrough) {
  const std::string gemma = testing::read_chat_template("gemma-2.jinja");
  const std::vector<ChatMessage> with_system = {{"system", "Be brief."}, {"user", "Hi"}};
  EXPECT_EQ(error_of([&] { render_chat(gemma, with_system, true); }),
            "chat template: the template raised an error: System role not supported (line 1, column 59)");
  const std::vector<ChatMessage> two_users = {{"user", "Hi"}, {"user", "Hi again"}};
  EXPECT_EQ(error_of([&] { render_chat(gemma, two_users, true); }),
            "chat template: the template raised an error: Conversation roles must alternate "
            "user/assistant/user/assistant/... (line 1, column 211)");
}

TEST(ChatTemplate, BadInputsGetOneClearError) {
  const std::vector<ChatMessage> question = {{"user", "hi"}};
  EXPECT_EQ(error_of([&] { render_chat("", question, true); }),
            "chat template: the model has none (tokenizer.chat_template); use `phirun generate` with a prompt "
            "formatted by hand");
  EXPECT_EQ(error_of([&] { render_chat("{% if %}", question, true); }),
            "chat template: line 1, column 7: expected an expression, got end of statement block (%})");
  EXPECT_EQ(error_of([&] { render_chat("{{ messages | from_json }}", question, true); }),
            "chat template: line 1, column 15: unknown filter 'from_json'");
  EXPECT_EQ(error_of([&] { render_chat("ok \xff", question, true); }),
            "chat template: invalid UTF-8 at byte offset 3: byte 0xff cannot start a UTF-8 character");
  const std::vector<ChatMessage> bad_text = {{"user", "caf\xc3"}};
  EXPECT_EQ(error_of([&] { render_chat(smollm2_template(), bad_text, true); }),
            "chat template: message 0 content: invalid UTF-8 at byte offset 3: the sequence starting with byte 0xc3 is "
            "cut off by the end of the text");
  ChatMessage bad_call("assistant", std::nullopt);
  bad_call.tool_calls.push_back({"", "f", "{\"a\": }"});
  const std::vector<ChatMessage> with_bad_call = {{"user", "hi"}, bad_call};
  EXPECT_EQ(error_of([&] { render_chat(smollm2_template(), with_bad_call, true); }),
            "chat template: message 1 tool call 0 arguments: invalid JSON at byte 6: unexpected character '}'");
  ChatTemplateOptions options;
  options.tools_json = "[1, 2";
  EXPECT_EQ(error_of([&] { render_chat(smollm2_template(), question, options); }),
            "chat template: tools: invalid JSON at byte 5: unexpected end of text");
}

TEST(ChatTemplate, StatusForPhirunInfo) {
  EXPECT_EQ(chat_template_status(smollm2_template()), "renders");
  EXPECT_EQ(chat_template_status(testing::read_chat_template("gemma-2.jinja")), "renders");
  EXPECT_EQ(chat_template_status("{% for m in messages %}"),
            "cannot render: line 1, column 24: unexpected end of template: expected 'endfor' or 'else' to close a "
            "block");
  EXPECT_EQ(chat_template_status("{{ raise_exception('no chat here') }}"),
            "cannot render: the template raised an error: no chat here (line 1, column 4)");
  EXPECT_EQ(chat_template_status(""),
            "cannot render: the model has none (tokenizer.chat_template); use `phirun "
            "generate` with a prompt formatted by hand");
}

TEST(ChatTemplate, ParsedOnceRenderedForEachTurn) {
  const ChatTemplate chat(testing::read_chat_template("qwen2.5.jinja"));
  std::vector<ChatMessage> conversation = {{"user", "Hi"}};
  ChatTemplateOptions options;
  EXPECT_EQ(chat.render(conversation, options),
            render_chat(testing::read_chat_template("qwen2.5.jinja"), conversation, options));
  conversation.push_back({"assistant", "Hello!"});
  conversation.push_back({"user", "Bye"});
  const std::string second = chat.render(conversation, options);
  const std::string ending = "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(second.substr(second.size() - ending.size()), ending);
  ChatTemplate moved = ChatTemplate(testing::read_chat_template("gemma-2.jinja"));
  moved = ChatTemplate(testing::read_chat_template("phi-3.jinja"));
  EXPECT_EQ(moved.render(conversation, options),
            "<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n");
  EXPECT_EQ(error_of([] { ChatTemplate("{{ x | from_json }}"); }),
            "chat template: line 1, column 8: unknown filter 'from_json'");
  EXPECT_EQ(error_of([] { ChatTemplate(""); }).substr(0, 32), "chat template: the model has non");
}

TEST(ChatTemplate, LongPasteRendersWhole) {
  std::string paste;
  while (paste.size() < 100'000) paste += "Lorem ipsum dolor sit amet, ünïcödé ✓. ";
  const std::vector<ChatMessage> messages = {{"user", paste}};
  const std::string llama = testing::read_chat_template("llama-3.1.jinja");
  ChatTemplateOptions options;
  options.bos_token = "<|begin_of_text|>";
  const std::string prompt = render_chat(llama, messages, options);
  // Llama 3.1 trims each message: the trailing space goes, the rest is there byte for byte.
  EXPECT_NE(prompt.find(paste.substr(0, paste.size() - 1) + "<|eot_id|>"), std::string::npos);
}

}  // namespace
}  // namespace phirun
