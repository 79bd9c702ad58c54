// Where tests find the real default model (SmolLM2-135M-Instruct Q4_1), fetched by
// scripts/fetch-model.sh. Without it a test is skipped with the command to run; CI sets
// PHIRUN_REQUIRE_MODEL=1 so that a missing model fails instead of skipping.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace phirun::testing {

inline std::string default_model_path_for_tests() {
  if (const char* path = std::getenv("PHIRUN_TEST_MODEL")) return path;
  std::filesystem::path cache;
  if (const char* dir = std::getenv("PHIRUN_CACHE_DIR")) {
    cache = dir;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME")) {
    cache = std::filesystem::path(xdg) / "phirun";
  } else if (const char* home = std::getenv("HOME")) {
    cache = std::filesystem::path(home) / ".cache" / "phirun";
  }
  return (cache / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf").string();
}

inline bool model_is_required() {
  const char* flag = std::getenv("PHIRUN_REQUIRE_MODEL");
  return flag && std::string(flag) == "1";
}

}  // namespace phirun::testing

// Use at the top of a test that needs the real model: sets `model_path` or skips/fails.
#define PHIRUN_REQUIRE_DEFAULT_MODEL(model_path)                                                 \
  const std::string model_path = ::phirun::testing::default_model_path_for_tests();              \
  if (!std::filesystem::exists(model_path)) {                                                    \
    if (::phirun::testing::model_is_required())                                                  \
      FAIL() << "default model missing at " << model_path << ": run scripts/fetch-model.sh";     \
    GTEST_SKIP() << "default model missing at " << model_path << ": run scripts/fetch-model.sh"; \
  }
