// The GGUF side of the tokenizer: metadata keys to TokenizerVocab fields. Every check here is one
// a user can act on, so each message names the file, the key and what was found.
#include "runtime/tokenizer_loader.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

namespace phirun {
namespace {

[[noreturn]] void fail(const GgufFile& file, std::string_view key, const std::string& problem) {
  throw std::runtime_error(file.error_prefix() + std::string(key) + ": " + problem);
}

std::string describe_type(const GgufValue& value) {
  if (value.type != GgufType::ARRAY) return "a " + std::string(gguf_type_name(value.type));
  return "an array of " + std::string(gguf_type_name(value.element_type));
}

const GgufValue& require_key(const GgufFile& file, std::string_view key) {
  const GgufValue* value = file.find(key);
  if (!value) fail(file, key, "missing: the file carries no tokenizer vocabulary");
  return *value;
}

const std::vector<std::string>& string_array(const GgufFile& file, std::string_view key, const GgufValue& value) {
  if (value.type != GgufType::ARRAY || value.element_type != GgufType::STRING) {
    fail(file, key, "expected an array of strings, found " + describe_type(value));
  }
  return value.string_items;
}

std::vector<int64_t> integer_array(const GgufFile& file, std::string_view key, const GgufValue& value) {
  const bool is_array = value.type == GgufType::ARRAY;
  GgufValue element;
  element.type = value.element_type;
  if (!is_array || !element.is_integer()) {
    fail(file, key, "expected an array of integers, found " + describe_type(value));
  }
  if (element.is_signed_integer()) return value.signed_items;
  std::vector<int64_t> items;
  items.reserve(value.unsigned_items.size());
  for (uint64_t item : value.unsigned_items) items.push_back(static_cast<int64_t>(std::min<uint64_t>(item, INT64_MAX)));
  return items;
}

std::vector<float> float_array(const GgufFile& file, std::string_view key, const GgufValue& value) {
  if (value.type != GgufType::ARRAY || (value.element_type != GgufType::F32 && value.element_type != GgufType::F64)) {
    fail(file, key, "expected an array of floats, found " + describe_type(value));
  }
  return std::vector<float>(value.float_items.begin(), value.float_items.end());
}

// A special-token id: -1 when the key is absent, else an index into the tokens.
int32_t optional_token_id(const GgufFile& file, std::string_view key, size_t token_count) {
  const std::optional<uint64_t> id = file.find_uint(key);
  if (!id) return -1;
  if (*id >= token_count) {
    fail(file, key,
         "token id " + std::to_string(*id) + " is out of range for " + std::to_string(token_count) + " tokens");
  }
  return static_cast<int32_t>(*id);
}

std::vector<int32_t> token_id_array(const GgufFile& file, std::string_view key, const GgufValue& value,
                                    size_t token_count) {
  std::vector<int32_t> ids;
  for (int64_t id : integer_array(file, key, value)) {
    if (id < 0 || static_cast<uint64_t>(id) >= token_count) {
      fail(file, key,
           "token id " + std::to_string(id) + " is out of range for " + std::to_string(token_count) + " tokens");
    }
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

bool is_phi3_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos;
}

// llama.cpp's guess for files without phirun's strip keys (llama-vocab.cpp, by general.name): a
// Phi-3 file's special tokens all strip white space on their right, except <unk>, <s> and
// <|endoftext|>. (Hugging Face's own flags differ between Phi-3 releases, so phirun's builder
// writes them instead.)
void apply_llama_cpp_strip_rule(const GgufFile& file, TokenizerVocab& vocab) {
  if (!is_phi3_name(file.find_string("general.name").value_or(""))) return;
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    const TokenType type = vocab.token_types.empty() ? TokenType::Normal : vocab.token_types[id];
    const bool special = type == TokenType::Control || type == TokenType::UserDefined || type == TokenType::Unknown;
    const std::string& text = vocab.tokens[id];
    if (special && text != "<unk>" && text != "<s>" && text != "<|endoftext|>") {
      vocab.rstrip_ids.push_back(static_cast<int32_t>(id));
    } else if (text == "</s>") {
      vocab.rstrip_ids.push_back(static_cast<int32_t>(id));
    }
  }
}

}  // namespace

TokenizerVocab vocab_from_gguf(const GgufFile& file) {
  TokenizerVocab vocab;
  vocab.model = file.get_string("tokenizer.ggml.model");
  vocab.pre = file.find_string("tokenizer.ggml.pre").value_or("default");

  constexpr std::string_view tokens_key = "tokenizer.ggml.tokens";
  vocab.tokens = string_array(file, tokens_key, require_key(file, tokens_key));
  const size_t token_count = vocab.tokens.size();
  if (token_count == 0) fail(file, tokens_key, "the token list is empty");
  if (token_count > static_cast<size_t>(INT32_MAX)) {
    fail(file, tokens_key, std::to_string(token_count) + " tokens do not fit int32 ids");
  }

  constexpr std::string_view types_key = "tokenizer.ggml.token_type";
  if (const GgufValue* types = file.find(types_key)) {
    const std::vector<int64_t> items = integer_array(file, types_key, *types);
    if (items.size() != token_count) {
      fail(file, types_key,
           std::to_string(items.size()) + " token types for " + std::to_string(token_count) +
               " tokens (tokenizer.ggml.tokens)");
    }
    vocab.token_types.reserve(items.size());
    for (size_t id = 0; id < items.size(); ++id) {
      if (items[id] < static_cast<int64_t>(TokenType::Undefined) || items[id] > static_cast<int64_t>(TokenType::Byte)) {
        fail(file, types_key,
             "token " + std::to_string(id) + " has unknown type " + std::to_string(items[id]) + " (known: 0..6)");
      }
      vocab.token_types.push_back(static_cast<TokenType>(items[id]));
    }
  }

  constexpr std::string_view merges_key = "tokenizer.ggml.merges";
  if (const GgufValue* merges = file.find(merges_key)) {
    vocab.merges = string_array(file, merges_key, *merges);
  } else if (vocab.model == "gpt2") {
    fail(file, merges_key, "missing: a \"gpt2\" (byte-level BPE) tokenizer needs its merges");
  }
  // Every merge makes a new token out of two, so a BPE vocabulary has fewer merges than tokens.
  if (vocab.merges.size() >= token_count) {
    fail(file, merges_key,
         std::to_string(vocab.merges.size()) + " merges for only " + std::to_string(token_count) + " tokens");
  }

  constexpr std::string_view scores_key = "tokenizer.ggml.scores";
  if (const GgufValue* scores = file.find(scores_key)) {
    vocab.scores = float_array(file, scores_key, *scores);
    if (vocab.scores.size() != token_count) {
      fail(file, scores_key,
           std::to_string(vocab.scores.size()) + " scores for " + std::to_string(token_count) +
               " tokens (tokenizer.ggml.tokens)");
    }
  } else if (vocab.model == "llama") {
    fail(file, scores_key, "missing: a \"llama\" (SentencePiece) tokenizer needs the score of every token");
  }
  vocab.add_space_prefix = file.find_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  if (vocab.model == "llama" && file.find_bool("tokenizer.ggml.remove_extra_whitespaces").value_or(false)) {
    fail(file, "tokenizer.ggml.remove_extra_whitespaces",
         "true is not supported: phirun's SentencePiece tokenizer keeps white space as it is");
  }

  vocab.bos_id = optional_token_id(file, "tokenizer.ggml.bos_token_id", token_count);
  vocab.eos_id = optional_token_id(file, "tokenizer.ggml.eos_token_id", token_count);
  vocab.eot_id = optional_token_id(file, "tokenizer.ggml.eot_token_id", token_count);
  vocab.unk_id = optional_token_id(file, "tokenizer.ggml.unknown_token_id", token_count);
  vocab.pad_id = optional_token_id(file, "tokenizer.ggml.padding_token_id", token_count);
  // Without the key, llama.cpp adds BOS for SentencePiece ("llama") vocabularies and not for
  // byte-level BPE: the same text must give the same ids in both.
  vocab.add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(vocab.model == "llama" && vocab.bos_id >= 0);

  const GgufValue* lstrip = file.find(kLstripTokenIdsKey);
  const GgufValue* rstrip = file.find(kRstripTokenIdsKey);
  if (lstrip) vocab.lstrip_ids = token_id_array(file, kLstripTokenIdsKey, *lstrip, token_count);
  if (rstrip) vocab.rstrip_ids = token_id_array(file, kRstripTokenIdsKey, *rstrip, token_count);
  if (!lstrip && !rstrip) apply_llama_cpp_strip_rule(file, vocab);
  return vocab;
}

void pad_vocab_to_rows(TokenizerVocab& vocab, int64_t rows, const GgufFile& file) {
  const auto token_count = static_cast<int64_t>(vocab.tokens.size());
  if (token_count > rows) {
    fail(file, "tokenizer.ggml.tokens",
         "the tokenizer has " + std::to_string(token_count) + " tokens but the embedding only " + std::to_string(rows) +
             " rows: ids past the rows could not be embedded");
  }
  if (token_count == rows) return;
  if (vocab.token_types.empty()) vocab.token_types.assign(vocab.tokens.size(), TokenType::Normal);
  for (int64_t id = token_count; id < rows; ++id) {
    vocab.tokens.push_back("[PAD" + std::to_string(id) + "]");
    vocab.token_types.push_back(TokenType::Unused);
    if (!vocab.scores.empty()) vocab.scores.push_back(-10000.0f);  // llama.cpp's padding score
  }
}

}  // namespace phirun
