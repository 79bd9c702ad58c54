// The tokenizer of a Hugging Face folder as GGUF metadata, the way llama.cpp's converter writes it,
// so the file carries everything generation needs: tokenizer.json byte-level BPE becomes
// tokenizer.ggml.model "gpt2" (tokens, types, merges, the pre-tokenizer's name); SentencePiece
// (tokenizer.model, or a tokenizer.json BPE with byte fallback) becomes "llama" (tokens, scores,
// types). Then the special ids, add_bos/add_eos, the chat template and generation_config.json's
// EOS list and sampling defaults.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/builder/hf_config.h"
#include "runtime/gguf.h"

namespace phirun::builder {

using Metadata = std::vector<std::pair<std::string, GgufValue>>;

struct ExportedTokenizer {
  Metadata metadata;
  std::string model;   // "gpt2" or "llama"
  std::string pre;     // tokenizer.ggml.pre
  std::string source;  // which file the vocabulary came from, for the build summary
  int64_t n_tokens = 0;
};

// Reads the tokenizer files of `folder`. `config` gives the vocabulary size to pad to (llama.cpp
// pads with "[PADn]" tokens of type unused) and fallback special ids. Throws
// std::runtime_error("PATH: problem") for a missing tokenizer, a malformed file, a token id past the
// embedding rows or a pre-tokenizer that is not recognised (the message lists those that are).
ExportedTokenizer export_tokenizer(const std::string& folder, const HfConfig& config);

// The pre-tokenizer name (tokenizer.ggml.pre) for a tokenizer.json "pre_tokenizer" object given as
// JSON text, or "" when it is not one phirun or llama.cpp knows by shape. Exposed for tests.
std::string detect_pre_tokenizer(const std::string& pre_tokenizer_json);

}  // namespace phirun::builder
