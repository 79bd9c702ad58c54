// The GGUF side of the tokenizer: metadata keys to TokenizerVocab fields. Every check here is one
// a user can act on, so each message names the file, the key and what was found.
#include "runtime/tokenizer_loader.h"

#include <algorithm>
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

  vocab.bos_id = optional_token_id(file, "tokenizer.ggml.bos_token_id", token_count);
  vocab.eos_id = optional_token_id(file, "tokenizer.ggml.eos_token_id", token_count);
  vocab.eot_id = optional_token_id(file, "tokenizer.ggml.eot_token_id", token_count);
  vocab.unk_id = optional_token_id(file, "tokenizer.ggml.unknown_token_id", token_count);
  vocab.pad_id = optional_token_id(file, "tokenizer.ggml.padding_token_id", token_count);
  vocab.add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(false);
  return vocab;
}

}  // namespace phirun
