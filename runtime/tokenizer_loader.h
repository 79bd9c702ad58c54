// Reads the tokenizer.ggml.* metadata of a GGUF file into a TokenizerVocab, with errors that name
// the file and the key. The Tokenizer constructor then validates the vocabulary itself.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/gguf.h"
#include "tokenizer/vocab.h"

namespace phirun {

// The keys phirun writes beside llama.cpp's: the ids of the special tokens that swallow white
// space on their left / right (Hugging Face's lstrip / rstrip), arrays of integers. llama.cpp
// has no such keys (it guesses the flags from the model name; see vocab_from_gguf).
inline constexpr std::string_view kLstripTokenIdsKey = "tokenizer.phirun.lstrip_token_ids";
inline constexpr std::string_view kRstripTokenIdsKey = "tokenizer.phirun.rstrip_token_ids";

// Keys read (llama.cpp's): tokenizer.ggml.model and .tokens (required), .pre (missing: "default",
// as llama.cpp assumes for older files), .token_type, .merges (required for "gpt2"), .scores
// (required for "llama"), .add_space_prefix (default true), .remove_extra_whitespaces (only false
// is supported), .bos/eos/eot/unknown/padding_token_id, .add_bos_token; and phirun's lstrip /
// rstrip keys above. Without those, a file whose general.name contains "phi-3" or "phi3" gets
// llama.cpp's rule for Phi-3: every Control, UserDefined and Unknown token is rstrip except <unk>,
// <s> and <|endoftext|>. Throws std::runtime_error ("PATH: KEY: problem") for a missing required
// key, a value of the wrong type, an array whose length differs from the token count, an unknown
// token type, more merges than tokens, or a token id outside the vocabulary.
TokenizerVocab vocab_from_gguf(const GgufFile& file);

// Pads the token list to `rows` entries (the embedding's rows) with Unused "[PAD<id>]" tokens, as
// llama.cpp's converter does for Phi-3 (32011 tokenizer entries, 32064 rows), so that any id the
// model can produce decodes (to nothing). Throws std::runtime_error naming `file` if the vocabulary
// has more tokens than `rows`.
void pad_vocab_to_rows(TokenizerVocab& vocab, int64_t rows, const GgufFile& file);

}  // namespace phirun
