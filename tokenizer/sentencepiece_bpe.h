// SentencePiece BPE (tokenizer.ggml.model "llama": Llama 2, Phi-3, Mistral v0.1, TinyLlama): text
// with spaces as "▁" and a "▁" in front is split into characters, and the adjacent pair whose
// concatenation is the highest-scored piece merges first (leftmost on ties), as sentencepiece's
// bpe_model.cc does. Characters left without a piece fall back to <0xXX> byte tokens, else <unk>.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer_model.h"
#include "tokenizer/vocab.h"

namespace phirun {

class SentencePieceBpe final : public TokenizerModel {
 public:
  // Throws std::runtime_error for a vocabulary without one finite score per token, a Byte token
  // whose text is not <0xXX>, or one that can neither fall back to bytes nor to an unknown token.
  explicit SentencePieceBpe(const TokenizerVocab& vocab);

  void encode(std::string_view text, std::vector<int32_t>& ids) const override;
  std::string token_bytes(std::string_view text, TokenType type) const override;
  bool strips_leading_space() const override { return add_space_prefix_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  // A piece merging may produce: sentencepiece's Normal, UserDefined and Unused pieces (Control,
  // Unknown and Byte tokens are never made by merging).
  struct Piece {
    int32_t id;
    float score;
    bool unused;  // made by merging, then split again into the pieces it was made of
  };
  struct Symbol;

  const Piece* find_piece(std::string_view text) const;
  // Merges the characters of normalized[begin, end) and appends the ids of the result.
  void merge_and_emit(std::string_view normalized, size_t begin, size_t end, std::vector<int32_t>& ids,
                      size_t first_id_of_text) const;
  // Appends the ids for one final symbol: its piece, or its Unused piece's parts, or bytes / <unk>.
  void emit(std::string_view normalized, uint32_t begin, uint32_t length,
            const std::unordered_map<int32_t, uint32_t>& unused_splits, std::vector<int32_t>& ids,
            size_t first_id_of_text) const;

  std::unordered_map<std::string, Piece, StringHash, std::equal_to<>> pieces_;
  std::array<int32_t, 256> byte_ids_{};  // -1: no <0xXX> token for the byte
  std::array<bool, 256> is_barrier_{};   // ASCII bytes in no multi-character piece: never merged
  int32_t unk_id_ = -1;
  bool add_space_prefix_ = true;
};

}  // namespace phirun
