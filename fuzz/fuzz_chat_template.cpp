// Fuzz target: chat templates and conversations from strangers. The input holds a template,
// then messages (role, content) and the options, as phirun's ChatTemplate renders them with its
// default limits: the template must render or fail with one clear error, within the step and
// size budget (libFuzzer's -timeout catches a budget too loose to stop a slow template).
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "fuzz/fuzz_allowed_errors.h"
#include "tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string source = input.ConsumeRandomLengthString(4096);
  phirun::ChatTemplateOptions options;
  options.add_generation_prompt = input.ConsumeBool();
  options.bos_token = input.ConsumeRandomLengthString(16);
  options.eos_token = input.ConsumeRandomLengthString(16);
  if (input.ConsumeBool()) options.tools_json = input.ConsumeRandomLengthString(256);
  if (input.ConsumeBool())
    options.extra_variables_json.emplace_back("enable_thinking", input.ConsumeRandomLengthString(16));
  std::vector<phirun::ChatMessage> messages;
  const int n_messages = input.ConsumeIntegralInRange(0, 6);
  for (int m = 0; m < n_messages; ++m) {
    phirun::ChatMessage message;
    message.role = input.ConsumeRandomLengthString(16);
    if (input.ConsumeBool()) message.content = input.ConsumeRandomLengthString(256);
    if (input.ConsumeProbability<float>() < 0.2f)
      message.tool_calls.push_back(
          {"call_1", input.ConsumeRandomLengthString(16), input.ConsumeRandomLengthString(64)});
    messages.push_back(std::move(message));
  }
  phirun::fuzz::expect_only_runtime_errors([&] {
    const phirun::ChatTemplate chat_template(source);
    chat_template.render(messages, options);
  });
  return 0;
}
