// Where phirun keeps its default model, SmolLM2-135M-Instruct (Q4_1 GGUF), once
// scripts/fetch-model.sh has put it there: $PHIRUN_CACHE_DIR, else $XDG_CACHE_HOME/phirun,
// else ~/.cache/phirun, then models/<file>.
#pragma once

#include <string>

namespace phirun {

inline constexpr const char* kDefaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf";
inline constexpr const char* kDefaultModelFetchCommand = "scripts/fetch-model.sh";

std::string cache_directory();
std::string default_model_path();

}  // namespace phirun
