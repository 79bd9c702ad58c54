// Text <-> token ids for the vocabulary a GGUF file carries: byte-level BPE (tokenizer.ggml.model
// "gpt2": SmolLM2, Phi-4-mini) agreeing token for token with Hugging Face `tokenizers`, and
// SentencePiece BPE ("llama": Llama 2, Phi-3) agreeing with sentencepiece, both with special tokens
// handled as Hugging Face does. Thread-safe: all methods are const after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer_model.h"
#include "tokenizer/vocab.h"

namespace phirun {

class Tokenizer {
 public:
  // Validates the vocabulary and builds the lookup tables. Throws std::runtime_error naming the
  // problem: unsupported model or pre-tokenizer, a token type or special id out of range, token
  // text that is not UTF-8, an lstrip/rstrip id that is not a special token, and the model's own
  // checks (gpt2: byte-level tokens and merges; llama: scores and byte tokens). When two tokens
  // share a text, lookups by text find the first.
  explicit Tokenizer(TokenizerVocab vocab);
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`, which must be well-formed UTF-8: otherwise std::runtime_error naming the
  // byte offset of the first bad byte. Special tokens found in the text become their ids as in
  // Hugging Face (leftmost, then longest; lstrip/rstrip tokens take the white space beside them):
  // UserDefined tokens always, Control and Unknown ones only with parse_special (without it their
  // text is tokenized as ordinary text). Starts with bos_id when the vocabulary's add_bos is set.
  // Byte-level: a byte with no token in the vocabulary is dropped before merging, as Hugging Face
  // does when there is no unknown token: SmolLM2 lacks 21 bytes, among them controls like 0x1d and
  // the UTF-8 lead bytes 0xf1 and 0xf2 (U+40000..U+BFFFF), so such text does not survive
  // encode -> decode. SentencePiece: each stretch of text between special tokens gets a "▁" in
  // front (add_space_prefix), as Hugging Face's Prepend normalizer and llama.cpp do.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;

  // The token as stored in the vocabulary ("Ġthe", "▁the"). Throws for an id out of range.
  const std::string& token_text(int32_t id) const;
  // The bytes the token stands for (" the"); Control, Unknown and UserDefined tokens give their
  // text, Unused ones (padding) nothing, and a byte-level token whose text is not byte-level
  // spelled its text (as in Hugging Face's decoder). A token holding part of a multi-byte
  // character gives those bytes alone (not UTF-8 by itself).
  std::string token_bytes(int32_t id) const;
  std::string_view token_bytes_view(int32_t id) const;

  // The bytes of a token sequence. Control and Unknown tokens are left out unless include_special.
  // SentencePiece vocabularies drop one space at the very start (the one encode put there), as
  // Hugging Face's decoder does. Otherwise the result is exactly the concatenated bytes, so it is
  // not UTF-8 if the ids cut a character in two (use StreamingDecoder or repair_utf8 for display).
  // Throws for an id out of range.
  std::string decode(std::span<const int32_t> ids, bool include_special = false) const;

  int32_t vocab_size() const { return static_cast<int32_t>(vocab_.tokens.size()); }
  std::optional<int32_t> find_token(std::string_view text) const;
  TokenType token_type(int32_t id) const;
  bool is_control(int32_t id) const { return token_type(id) == TokenType::Control; }
  // Control and Unknown tokens: what decode leaves out unless include_special.
  bool is_hidden_special(int32_t id) const;
  // Whether decode drops a space at the start of its text (SentencePiece's dummy prefix).
  bool strips_leading_space() const { return model_->strips_leading_space(); }

  // Ids that end generation: eos, eot, and Control tokens whose text is a usual turn or end
  // marker (<|im_end|>, <|endoftext|>, <|end|>, <|eot_id|>, <end_of_turn>, ...), in the spirit of
  // llama.cpp's end-of-generation set. Sorted.
  const std::vector<int32_t>& end_of_generation_ids() const { return end_of_generation_ids_; }
  bool is_end_of_generation(int32_t id) const;

  const TokenizerVocab& vocab() const { return vocab_; }
  // The pre-tokenizer of a byte-level ("gpt2") vocabulary; none for SentencePiece.
  std::optional<PreTokenizer> pre_tokenizer() const { return pre_tokenizer_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };

  void check_id(int32_t id, const char* caller) const;
  void validate_vocab() const;
  void build_token_lookup();
  void build_special_tokens();
  void build_end_of_generation_ids();
  // Appends the ids of text that holds no special token.
  void encode_ordinary(std::string_view text, std::vector<int32_t>& ids) const;

  TokenizerVocab vocab_;
  std::unique_ptr<TokenizerModel> model_;
  std::optional<PreTokenizer> pre_tokenizer_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> id_of_text_;
  std::vector<std::string> bytes_of_token_;
  SpecialTokenMatcher special_tokens_;
  std::vector<uint8_t> strip_flags_;  // per token: kStripLeft | kStripRight
  std::vector<int32_t> end_of_generation_ids_;
};

}  // namespace phirun
