#include "runtime/generate.h"

#include <chrono>
#include <stdexcept>

#include "search/greedy.h"

namespace phirun {

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::EndOfGeneration:
      return "end of generation";
    case StopReason::MaxTokens:
      return "token limit";
    case StopReason::ContextFull:
      return "context full";
    case StopReason::Caller:
      return "stopped";
    case StopReason::StopString:
      return "stop string";
  }
  return "unknown";
}

GenerateStats generate_greedy(Session& session, std::span<const int32_t> prompt, const GenerateOptions& options,
                              const std::function<bool(int32_t)>& on_token) {
  using Clock = std::chrono::steady_clock;
  const Tokenizer& tokenizer = session.model().tokenizer();
  GenerateStats stats;
  stats.prompt_tokens = int64_t(prompt.size());

  const auto prompt_start = Clock::now();
  std::span<const float> logits = session.append(prompt);
  stats.prompt_seconds = std::chrono::duration<double>(Clock::now() - prompt_start).count();

  const auto decode_start = Clock::now();
  for (;;) {
    if (stats.generated_tokens >= options.max_new_tokens) {
      stats.stop_reason = StopReason::MaxTokens;
      break;
    }
    const int32_t next = argmax(logits);
    ++stats.generated_tokens;
    if (!on_token(next)) {
      stats.stop_reason = StopReason::Caller;
      break;
    }
    if (options.stop_at_end_of_generation && tokenizer.is_end_of_generation(next)) {
      stats.stop_reason = StopReason::EndOfGeneration;
      break;
    }
    if (stats.generated_tokens >= options.max_new_tokens) {
      stats.stop_reason = StopReason::MaxTokens;
      break;
    }
    if (session.position() >= session.context_length()) {
      stats.stop_reason = StopReason::ContextFull;
      break;
    }
    const int32_t step[1] = {next};
    logits = session.append(step);
    ++stats.decode_steps;
  }
  stats.decode_seconds = std::chrono::duration<double>(Clock::now() - decode_start).count();
  return stats;
}

}  // namespace phirun
