// The part of a tokenizer that differs by tokenizer.ggml.model: how a stretch of ordinary text
// (no special tokens in it) becomes ids, and what bytes each token stands for. The Tokenizer
// around it does what all models share: validation, special tokens, BOS, decoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace phirun {

class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;

  // Appends the ids of `text`: well-formed UTF-8, not empty, holding no special token.
  virtual void encode(std::string_view text, std::vector<int32_t>& ids) const = 0;

  // The bytes a Normal, Unknown or Byte token stands for, from its stored text: "Ġthe" or "▁the"
  // -> " the", "<0x0A>" -> "\n". (Control and UserDefined tokens decode as their text as stored.)
  virtual std::string token_bytes(std::string_view text, TokenType type) const = 0;

  // Whether decoding drops one space at the very start of the text: SentencePiece's dummy prefix
  // (Hugging Face's Strip decoder) undoes the "▁" that encoding put there.
  virtual bool strips_leading_space() const { return false; }
};

}  // namespace phirun
