// What a GGUF file says about its tokenizer (the tokenizer.ggml.* keys), as plain data.
// runtime/tokenizer_loader reads it from a file; tests build small ones by hand. The Tokenizer
// constructor validates it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace phirun {

// llama.cpp's token types, as stored in tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,      // <unk>: parsed from text like Control, and left out of decoded text
  Control = 3,      // special tokens such as <|im_start|>: parsed from text, omitted from decoded text
  UserDefined = 4,  // added tokens stored as raw text: always parsed from text, always decoded
  Unused = 5,       // e.g. the padding past the tokenizer's entries: never produced, decodes to nothing
  Byte = 6,         // SentencePiece byte fallback "<0x0A>": stands for that one byte
};

struct TokenizerVocab {
  // tokenizer.ggml.model: "gpt2" (byte-level BPE over merges) or "llama" (SentencePiece BPE over
  // scores, with byte fallback).
  std::string model;
  // tokenizer.ggml.pre, for "gpt2": "smollm", "gpt-4o" (o200k), "gpt2" or "default".
  std::string pre;
  std::vector<std::string> tokens;     // token texts as stored: "Ġthe" (gpt2), "▁the" (llama)
  std::vector<TokenType> token_types;  // empty = all Normal
  std::vector<std::string> merges;     // gpt2: "left right"; rank = index, lower merges first
  std::vector<float> scores;           // llama: one per token; the merge making the highest-scored piece goes first
  int32_t bos_id = -1, eos_id = -1, eot_id = -1, unk_id = -1, pad_id = -1;  // -1 = none
  bool add_bos = false;
  // llama: put "▁" before each stretch of text (the start, and after each special token), as
  // SentencePiece's add_dummy_prefix and Hugging Face's Prepend("▁") normalizer do.
  bool add_space_prefix = true;
  // Special tokens that swallow the white space on their left / right when found in text
  // (Hugging Face's lstrip / rstrip flags of added tokens; e.g. Phi-3's <|assistant|>).
  std::vector<int32_t> lstrip_ids, rstrip_ids;
};

}  // namespace phirun
