// The generate loop for one sequence: prefill the prompt, then pick tokens greedily until an
// end-of-generation token, the token limit, a full context or the caller says stop.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "runtime/session.h"

namespace phirun {

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  bool stop_at_end_of_generation = true;  // off: run exactly max_new_tokens (tests, benchmarks)
};

enum class StopReason { EndOfGeneration, MaxTokens, ContextFull, Caller, StopString };
const char* stop_reason_name(StopReason reason);

struct GenerateStats {
  int64_t prompt_tokens = 0;
  double prompt_seconds = 0.0;
  int64_t generated_tokens = 0;
  int64_t decode_steps = 0;  // forward passes after the prompt (one per generated token but the last)
  double decode_seconds = 0.0;
  StopReason stop_reason = StopReason::MaxTokens;
};

// Calls on_token for every generated token as soon as it is chosen; returning false stops.
// The end-of-generation token itself is reported too (callers decide whether to print it).
GenerateStats generate_greedy(Session& session, std::span<const int32_t> prompt, const GenerateOptions& options,
                              const std::function<bool(int32_t id)>& on_token);

}  // namespace phirun
