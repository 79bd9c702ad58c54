// Helpers for the tests against Hugging Face `tokenizers`: the real SmolLM2 tokenizer loaded
// once from the default model's GGUF, the committed fixtures, and readable mismatch reports.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/gguf.h"
#include "runtime/tokenizer_loader.h"
#include "tokenizer/tokenizer.h"

namespace phirun::testing {

inline const Tokenizer& smollm2_tokenizer(const std::string& model_path) {
  static const std::unique_ptr<Tokenizer> tokenizer =
      std::make_unique<Tokenizer>(vocab_from_gguf(GgufFile::open(model_path)));
  return *tokenizer;
}

inline nlohmann::json read_json_fixture(const std::string& name) {
  const std::string path = "tests/fixtures/tokenizer/" + name;
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path + " (tests run from the repository root)");
  return nlohmann::json::parse(file);
}

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// FNV-1a 64 over the ids as little-endian u32, as the fixture script computes it.
inline uint64_t fnv1a64_of_ids(std::span<const int32_t> ids) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (int32_t id : ids) {
    const auto value = static_cast<uint32_t>(id);
    for (int shift = 0; shift < 32; shift += 8) {
      hash ^= (value >> shift) & 0xFF;
      hash *= 0x100000001b3ull;
    }
  }
  return hash;
}

// "id 'piece'" for a few ids around `center`, for mismatch reports.
inline std::string ids_around(const Tokenizer& tokenizer, std::span<const int32_t> ids, size_t center) {
  std::ostringstream out;
  const size_t begin = center >= 4 ? center - 4 : 0;
  const size_t end = std::min(ids.size(), center + 5);
  for (size_t i = begin; i < end; ++i) {
    out << (i == center ? " >>" : " ") << ids[i];
    if (ids[i] >= 0 && ids[i] < tokenizer.vocab_size()) out << " '" << tokenizer.token_text(ids[i]) << "'";
  }
  return out.str();
}

// Empty when equal; else where the two id lists first differ, with context from both.
inline std::string first_difference(const Tokenizer& tokenizer, std::span<const int32_t> expected,
                                    std::span<const int32_t> actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  if (i == expected.size() && i == actual.size()) return "";
  std::ostringstream out;
  out << "first difference at position " << i << " (expected " << expected.size() << " ids, got " << actual.size()
      << ")\n  expected:" << ids_around(tokenizer, expected, i) << "\n  actual:  " << ids_around(tokenizer, actual, i);
  return out.str();
}

}  // namespace phirun::testing
