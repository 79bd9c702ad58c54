// Tokenizer construction (validation and lookup tables), encoding and decoding. Encoding runs in
// three stages, as in Hugging Face: split at special tokens, pre-tokenize each stretch into words,
// then spell each word's bytes as byte-level tokens and merge them by BPE rank.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <stdexcept>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

constexpr int32_t kNoToken = -1;

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

void check_special_id(int32_t id, const char* field, size_t token_count) {
  if (id < -1 || id >= static_cast<int64_t>(token_count)) {
    throw std::runtime_error(std::string("tokenizer: ") + field + " " + std::to_string(id) +
                             " is out of range for a vocabulary of " + std::to_string(token_count) + " tokens");
  }
}

// Control-token texts that mark the end of a turn or of a document in common chat formats.
constexpr std::string_view kEndMarkers[] = {
    "<|endoftext|>",  // GPT-2, SmolLM, Phi-3, Qwen
    "<|im_end|>",     // ChatML (SmolLM, Qwen)
    "<|end|>",        // Phi-3, Phi-4
    "<|eot_id|>",     // Llama 3
    "<|eom_id|>",     // Llama 3.1 tool calls
    "<end_of_turn>",  // Gemma
    "<|return|>",     // gpt-oss harmony format
    "<EOT>",          // CodeLlama infill
};

}  // namespace

Tokenizer::Tokenizer(TokenizerVocab vocab) : vocab_(std::move(vocab)) {
  if (vocab_.model == "llama") {
    throw std::runtime_error(
        "tokenizer: tokenizer.ggml.model \"llama\" (SentencePiece BPE with byte fallback) is not "
        "supported yet: it comes in a later issue; supported now: \"gpt2\" (byte-level BPE)");
  }
  if (vocab_.model != "gpt2") {
    throw std::runtime_error("tokenizer: unsupported tokenizer.ggml.model " + quoted(vocab_.model) +
                             "; supported: \"gpt2\" (byte-level BPE)");
  }
  pre_tokenizer_ = pre_tokenizer_from_name(vocab_.pre);

  const size_t token_count = vocab_.tokens.size();
  if (token_count == 0) throw std::runtime_error("tokenizer: the vocabulary has no tokens");
  if (token_count > static_cast<size_t>(INT32_MAX)) {
    throw std::runtime_error("tokenizer: " + std::to_string(token_count) + " tokens do not fit int32 ids");
  }
  if (!vocab_.token_types.empty() && vocab_.token_types.size() != token_count) {
    throw std::runtime_error("tokenizer: " + std::to_string(vocab_.token_types.size()) + " token types for " +
                             std::to_string(token_count) + " tokens");
  }
  for (size_t id = 0; id < vocab_.token_types.size(); ++id) {
    const auto type = static_cast<int32_t>(vocab_.token_types[id]);
    if (type < 0 || type > static_cast<int32_t>(TokenType::Byte)) {
      throw std::runtime_error("tokenizer: token " + std::to_string(id) + " has unknown token type " +
                               std::to_string(type) + " (known: 0..6)");
    }
  }
  check_special_id(vocab_.bos_id, "bos_id", token_count);
  check_special_id(vocab_.eos_id, "eos_id", token_count);
  check_special_id(vocab_.eot_id, "eot_id", token_count);
  check_special_id(vocab_.unk_id, "unk_id", token_count);
  check_special_id(vocab_.pad_id, "pad_id", token_count);
  if (vocab_.add_bos && vocab_.bos_id < 0) {
    throw std::runtime_error("tokenizer: add_bos is set but the vocabulary has no bos_id");
  }

  build_token_lookup();
  build_byte_tokens();
  build_merges();
  build_special_tokens();
  build_end_of_generation_ids();
}

void Tokenizer::build_token_lookup() {
  id_of_text_.reserve(vocab_.tokens.size());
  bytes_of_token_.resize(vocab_.tokens.size());
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    const std::string& text = vocab_.tokens[id];
    require_valid_utf8(text, "tokenizer: text of token " + std::to_string(id));
    id_of_text_.try_emplace(text, static_cast<int32_t>(id));
    const TokenType type = token_type(static_cast<int32_t>(id));
    if (type == TokenType::Control || type == TokenType::UserDefined) {
      bytes_of_token_[id] = text;
    } else {
      // Hugging Face's byte-level decoder keeps a token's text as is when some character of it
      // is not a byte-level character; do the same.
      bytes_of_token_[id] = byte_level_decode(text).value_or(text);
    }
  }
}

void Tokenizer::build_byte_tokens() {
  int byte_tokens_found = 0;
  for (uint32_t byte = 0; byte < 256; ++byte) {
    std::string spelled;
    append_utf8(spelled, byte_level_char(static_cast<uint8_t>(byte)));
    const std::optional<int32_t> id = find_token(spelled);
    byte_token_ids_[byte] = id.value_or(kNoToken);
    byte_tokens_found += id.has_value();
  }
  // Some real vocabularies lack a few bytes (SmolLM2 has no token for 21 of them, such as 0x1d
  // and 0xf1), but one without any is not a byte-level vocabulary at all.
  if (byte_tokens_found == 0) {
    throw std::runtime_error(
        "tokenizer: no token spells a single byte (\"a\", \"\xC4\xA0\" for space, ...): "
        "this is not a byte-level BPE vocabulary");
  }
}

void Tokenizer::build_merges() {
  for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
    const std::string& merge = vocab_.merges[rank];
    const size_t space = merge.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == merge.size() ||
        merge.find(' ', space + 1) != std::string::npos) {
      throw std::runtime_error("tokenizer: merge " + std::to_string(rank) + " " + quoted(merge) +
                               " is not of the form \"left right\"");
    }
    const std::string_view left = std::string_view(merge).substr(0, space);
    const std::string_view right = std::string_view(merge).substr(space + 1);
    const std::string joined = std::string(left) + std::string(right);
    const std::optional<int32_t> left_id = find_token(left);
    const std::optional<int32_t> right_id = find_token(right);
    const std::optional<int32_t> joined_id = find_token(joined);
    if (!left_id || !right_id || !joined_id) {
      const char* part = !left_id ? "its left part" : !right_id ? "its right part" : "its result";
      const std::string_view text = !left_id ? left : !right_id ? right : std::string_view(joined);
      throw std::runtime_error("tokenizer: merge " + std::to_string(rank) + " " + quoted(merge) + ": " + part + " " +
                               quoted(text) + " is not a token");
    }
    merges_.add(*left_id, *right_id, *joined_id, static_cast<int32_t>(rank));
  }
}

void Tokenizer::build_special_tokens() {
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    const TokenType type = token_type(static_cast<int32_t>(id));
    if (type == TokenType::Control || type == TokenType::UserDefined) {
      special_tokens_.add(vocab_.tokens[id], static_cast<int32_t>(id));
    }
  }
}

void Tokenizer::build_end_of_generation_ids() {
  if (vocab_.eos_id >= 0) end_of_generation_ids_.push_back(vocab_.eos_id);
  if (vocab_.eot_id >= 0) end_of_generation_ids_.push_back(vocab_.eot_id);
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    if (!is_control(static_cast<int32_t>(id))) continue;
    const std::string& text = vocab_.tokens[id];
    if (std::find(std::begin(kEndMarkers), std::end(kEndMarkers), text) != std::end(kEndMarkers)) {
      end_of_generation_ids_.push_back(static_cast<int32_t>(id));
    }
  }
  std::sort(end_of_generation_ids_.begin(), end_of_generation_ids_.end());
  end_of_generation_ids_.erase(std::unique(end_of_generation_ids_.begin(), end_of_generation_ids_.end()),
                               end_of_generation_ids_.end());
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  require_valid_utf8(text, "Tokenizer::encode");
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (vocab_.add_bos) ids.push_back(vocab_.bos_id);
  size_t offset = 0;
  if (parse_special) {
    while (const std::optional<SpecialTokenMatcher::Match> match = special_tokens_.find_next(text, offset)) {
      encode_ordinary(text.substr(offset, match->offset - offset), ids);
      ids.push_back(match->id);
      offset = match->offset + match->length;
    }
  }
  encode_ordinary(text.substr(offset), ids);
  return ids;
}

void Tokenizer::encode_ordinary(std::string_view text, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  std::vector<std::string_view> words;
  split_words(pre_tokenizer_, text, words);
  std::vector<int32_t> symbols;
  for (std::string_view word : words) {
    symbols.clear();
    for (char byte : word) {
      // A byte without a token is dropped before merging, as Hugging Face's BPE does when the
      // vocabulary has no unknown token; its neighbours may then merge with each other.
      const int32_t id = byte_token_ids_[static_cast<uint8_t>(byte)];
      if (id != kNoToken) symbols.push_back(id);
    }
    merges_.apply(symbols);
    ids.insert(ids.end(), symbols.begin(), symbols.end());
  }
}

void Tokenizer::check_id(int32_t id, const char* caller) const {
  if (id < 0 || id >= vocab_size()) {
    throw std::runtime_error(std::string(caller) + ": token id " + std::to_string(id) +
                             " is out of range for a vocabulary of " + std::to_string(vocab_size()) + " tokens");
  }
}

const std::string& Tokenizer::token_text(int32_t id) const {
  check_id(id, "Tokenizer::token_text");
  return vocab_.tokens[id];
}

std::string Tokenizer::token_bytes(int32_t id) const { return std::string(token_bytes_view(id)); }

std::string_view Tokenizer::token_bytes_view(int32_t id) const {
  check_id(id, "Tokenizer::token_bytes");
  return bytes_of_token_[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
  check_id(id, "Tokenizer::token_type");
  return vocab_.token_types.empty() ? TokenType::Normal : vocab_.token_types[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool include_special) const {
  std::string text;
  for (int32_t id : ids) {
    check_id(id, "Tokenizer::decode");
    if (!include_special && is_control(id)) continue;
    text += bytes_of_token_[id];
  }
  return text;
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  const auto found = id_of_text_.find(text);
  if (found == id_of_text_.end()) return std::nullopt;
  return found->second;
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_ids_.begin(), end_of_generation_ids_.end(), id);
}

}  // namespace phirun
