// Loading the committed generation fixtures (tests/fixtures/generation/*.json) once per test binary.
#pragma once

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace phirun::testing {

inline const nlohmann::json& generation_fixture(const std::string& name) {
  static std::map<std::string, nlohmann::json> loaded;
  auto found = loaded.find(name);
  if (found != loaded.end()) return found->second;
  const std::string path = std::string(PHIRUN_SOURCE_DIR) + "/tests/fixtures/generation/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the fixture");
  return loaded.emplace(name, nlohmann::json::parse(in)).first->second;
}

// A row of scores where null stands for -infinity (a removed token).
inline std::vector<float> scores_from_json(const nlohmann::json& values) {
  std::vector<float> scores;
  for (const auto& value : values)
    scores.push_back(value.is_null() ? -std::numeric_limits<float>::infinity() : value.get<float>());
  return scores;
}

}  // namespace phirun::testing
