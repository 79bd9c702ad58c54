// Reads the tokenizer.ggml.* metadata of a GGUF file into a TokenizerVocab, with errors that name
// the file and the key. The Tokenizer constructor then validates the vocabulary itself.
#pragma once

#include "runtime/gguf.h"
#include "tokenizer/vocab.h"

namespace phirun {

// Keys read (llama.cpp's): tokenizer.ggml.model and .tokens (required), .pre (missing: "default",
// as llama.cpp assumes for older files), .token_type, .merges (required for "gpt2"),
// .bos/eos/eot/unknown/padding_token_id and .add_bos_token. Throws std::runtime_error
// ("PATH: tokenizer.ggml.KEY: problem") for a missing required key, a value of the wrong type, a
// token_type array whose length differs from the token count, an unknown token type, more merges
// than tokens, or a special-token id outside the vocabulary.
TokenizerVocab vocab_from_gguf(const GgufFile& file);

}  // namespace phirun
