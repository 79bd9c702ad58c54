// Byte-level BPE (tokenizer.ggml.model "gpt2"): a pre-tokenizer splits text into words, each
// word's bytes are spelled as byte-level tokens ("Ġ" for space) and merged by rank, as Hugging
// Face's BPE model does (no dropout, no unknown token, merges not ignored).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_model.h"
#include "tokenizer/vocab.h"

namespace phirun {

class ByteLevelBpe final : public TokenizerModel {
 public:
  using FindToken = std::function<std::optional<int32_t>(std::string_view)>;

  // `find_token` gives the id of a token text (the first, when texts repeat). Throws
  // std::runtime_error for an unsupported pre-tokenizer, a vocabulary without any byte-level
  // token, or a merge that is malformed or names texts that are not tokens.
  ByteLevelBpe(const TokenizerVocab& vocab, const FindToken& find_token);

  void encode(std::string_view text, std::vector<int32_t>& ids) const override;
  std::string token_bytes(std::string_view text, TokenType type) const override;

  PreTokenizer pre_tokenizer() const { return pre_tokenizer_; }

 private:
  PreTokenizer pre_tokenizer_;
  std::array<int32_t, 256> byte_token_ids_{};  // -1: the vocabulary has no token for the byte
  BpeMerges merges_;
};

}  // namespace phirun
