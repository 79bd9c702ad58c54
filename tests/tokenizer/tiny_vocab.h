// A small hand-built byte-level vocabulary for tests that must not need the real model: the 256
// byte tokens in byte order (so id == byte value), then the tokens and merges a test adds.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/byte_level.h"
#include "tokenizer/vocab.h"

namespace phirun::testing {

inline TokenizerVocab byte_vocab(std::string pre = "gpt2") {
  TokenizerVocab vocab;
  vocab.model = "gpt2";
  vocab.pre = std::move(pre);
  for (int byte = 0; byte < 256; ++byte) vocab.tokens.push_back(byte_level_encode(std::string(1, char(byte))));
  vocab.token_types.assign(256, TokenType::Normal);
  return vocab;
}

// Adds a token; returns its id.
inline int32_t add_token(TokenizerVocab& vocab, std::string_view text, TokenType type = TokenType::Normal) {
  vocab.tokens.emplace_back(text);
  vocab.token_types.push_back(type);
  return static_cast<int32_t>(vocab.tokens.size() - 1);
}

// Adds the merge of two byte-level texts (given as raw bytes, e.g. " t" + "he") and the token it
// makes; returns that token's id.
inline int32_t add_merge(TokenizerVocab& vocab, std::string_view left_bytes, std::string_view right_bytes) {
  const std::string left = byte_level_encode(left_bytes);
  const std::string right = byte_level_encode(right_bytes);
  vocab.merges.push_back(left + " " + right);
  return add_token(vocab, left + right);
}

}  // namespace phirun::testing
