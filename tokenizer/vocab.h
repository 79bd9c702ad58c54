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
  Unknown = 2,
  Control = 3,      // special tokens such as <|im_start|>: parsed from text, omitted from decoded text
  UserDefined = 4,  // added tokens stored as raw text: parsed from text, always decoded
  Unused = 5,
  Byte = 6,
};

struct TokenizerVocab {
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE); "llama" (SentencePiece) is not supported yet
  std::string pre;    // tokenizer.ggml.pre: "smollm", "gpt2" or "default"
  std::vector<std::string> tokens;     // token texts as stored, byte-level spelled ("Ġthe")
  std::vector<TokenType> token_types;  // empty = all Normal
  std::vector<std::string> merges;     // "left right"; rank = index, lower merges first
  int32_t bos_id = -1, eos_id = -1, eot_id = -1, unk_id = -1, pad_id = -1;  // -1 = none
  bool add_bos = false;
};

}  // namespace phirun
