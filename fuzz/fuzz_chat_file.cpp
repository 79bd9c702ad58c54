// Fuzz target: a conversation file from a stranger, as `phirun chat` reads it with /load
// (tools/chat_file: JSON, then every message checked for a string role and content).
#include <cstdint>
#include <string>

#include "fuzz/fuzz_allowed_errors.h"
#include "tools/chat_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  phirun::fuzz::expect_only_runtime_errors([&] {
    const auto messages = phirun::cli::parse_conversation(text, "chat.json");
    for (const phirun::ChatMessage& message : messages)
      if (message.role.empty() || !message.content) std::abort();  // what the parser promises
  });
  return 0;
}
