// Readers for test data outside JSON: llama.cpp's tokenizer vectors (.inp: texts separated by
// "\n__ggml_vocab_test__\n"; .out: one line of space-separated ids per text, no BOS).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/tokenizer/oracle_fixtures.h"

namespace phirun::testing {

struct TokenizerVector {
  std::string text;
  std::vector<int32_t> ids;
};

inline std::vector<TokenizerVector> read_llama_cpp_vectors(const std::string& inp_path, const std::string& out_path) {
  const std::string inp = read_file_bytes(inp_path);
  const std::string out = read_file_bytes(out_path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t begin = 0;;) {
    const size_t end = inp.find(separator, begin);
    if (end == std::string::npos) break;
    texts.push_back(inp.substr(begin, end - begin));
    begin = end + separator.size();
  }
  std::vector<TokenizerVector> vectors;
  std::istringstream lines(out);
  std::string line;
  for (const std::string& text : texts) {
    if (!std::getline(lines, line))
      throw std::runtime_error(out_path + ": fewer lines than " + inp_path + " has texts");
    std::istringstream numbers(line);
    std::vector<int32_t> ids;
    for (int32_t id; numbers >> id;) ids.push_back(id);
    vectors.push_back({text, std::move(ids)});
  }
  return vectors;
}

}  // namespace phirun::testing
