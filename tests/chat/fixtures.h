// Reading the committed chat-template fixtures (tests run from the repository root).
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

namespace phirun::testing {

inline std::string read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path + " (tests run from the repository root)");
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// ordered_json keeps object keys in file order, as Python's dicts do.
inline nlohmann::ordered_json read_chat_fixture(const std::string& name) {
  return nlohmann::ordered_json::parse(read_text_file("tests/fixtures/chat_templates/" + name));
}

inline std::string read_chat_template(const std::string& file_name) {
  return read_text_file("tests/data/chat-templates/" + file_name);
}

}  // namespace phirun::testing
