// Tokenizer construction (validation and lookup tables), encoding and decoding. Encoding runs in
// the order of Hugging Face: split the text at special tokens, then hand each stretch between them
// to the model (byte-level BPE or SentencePiece BPE).
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <stdexcept>

#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/sentencepiece_bpe.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

constexpr uint8_t kStripLeft = 1;
constexpr uint8_t kStripRight = 2;

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

bool is_matched_in_text(TokenType type) {
  return type == TokenType::Control || type == TokenType::UserDefined || type == TokenType::Unknown;
}

// The start of the character that ends at byte `end` (> 0) of well-formed UTF-8.
size_t previous_char_start(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
  return start;
}

}  // namespace

Tokenizer::Tokenizer(TokenizerVocab vocab) : vocab_(std::move(vocab)) {
  validate_vocab();
  build_token_lookup();
  if (vocab_.model == "gpt2") {
    auto byte_level =
        std::make_unique<ByteLevelBpe>(vocab_, [this](std::string_view text) { return find_token(text); });
    pre_tokenizer_ = byte_level->pre_tokenizer();
    model_ = std::move(byte_level);
  } else {
    model_ = std::make_unique<SentencePieceBpe>(vocab_);
  }
  bytes_of_token_.resize(vocab_.tokens.size());
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    const TokenType type = token_type(static_cast<int32_t>(id));
    if (type == TokenType::Unused) continue;  // padding decodes to nothing, as in llama.cpp
    bytes_of_token_[id] = (type == TokenType::Control || type == TokenType::UserDefined)
                              ? vocab_.tokens[id]
                              : model_->token_bytes(vocab_.tokens[id], type);
  }
  build_special_tokens();
  build_end_of_generation_ids();
}

void Tokenizer::validate_vocab() const {
  if (vocab_.model != "gpt2" && vocab_.model != "llama") {
    throw std::runtime_error("tokenizer: unsupported tokenizer.ggml.model " + quoted(vocab_.model) +
                             "; supported: \"gpt2\" (byte-level BPE) and \"llama\" (SentencePiece BPE)");
  }
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
  for (const auto* list : {&vocab_.lstrip_ids, &vocab_.rstrip_ids}) {
    const char* name = list == &vocab_.lstrip_ids ? "lstrip" : "rstrip";
    for (int32_t id : *list) {
      if (id < 0 || id >= static_cast<int64_t>(token_count)) {
        throw std::runtime_error(std::string("tokenizer: ") + name + " token id " + std::to_string(id) +
                                 " is out of range for a vocabulary of " + std::to_string(token_count) + " tokens");
      }
      const TokenType type = vocab_.token_types.empty() ? TokenType::Normal : vocab_.token_types[id];
      if (!is_matched_in_text(type)) {
        throw std::runtime_error(std::string("tokenizer: ") + name + " token " + std::to_string(id) + " " +
                                 quoted(vocab_.tokens[id]) +
                                 " is not a special token (Control, UserDefined or Unknown), so it is never "
                                 "matched in text");
      }
    }
  }
}

void Tokenizer::build_token_lookup() {
  id_of_text_.reserve(vocab_.tokens.size());
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    const std::string& text = vocab_.tokens[id];
    require_valid_utf8(text, "tokenizer: text of token " + std::to_string(id));
    id_of_text_.try_emplace(text, static_cast<int32_t>(id));
  }
}

void Tokenizer::build_special_tokens() {
  strip_flags_.assign(vocab_.tokens.size(), 0);
  for (int32_t id : vocab_.lstrip_ids) strip_flags_[id] |= kStripLeft;
  for (int32_t id : vocab_.rstrip_ids) strip_flags_[id] |= kStripRight;
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    if (is_matched_in_text(token_type(static_cast<int32_t>(id)))) {
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
  // As Hugging Face's AddedVocabulary: matches are found over the whole text, a Control or
  // Unknown one is passed over without parse_special (its text stays in the stretch around it),
  // and an lstrip / rstrip token extends over the white space beside it.
  size_t stretch_begin = 0;
  size_t search_from = 0;
  while (const std::optional<SpecialTokenMatcher::Match> match = special_tokens_.find_next(text, search_from)) {
    search_from = match->offset + match->length;
    if (!parse_special && is_hidden_special(match->id)) continue;
    size_t begin = match->offset;
    size_t end = search_from;
    if (strip_flags_[match->id] & kStripLeft) {
      while (begin > stretch_begin) {
        const size_t previous = previous_char_start(text, begin);
        if (!is_white_space(decode_utf8_char(text, previous).code_point)) break;
        begin = previous;
      }
    }
    if (strip_flags_[match->id] & kStripRight) {
      while (end < text.size()) {
        const Utf8Char next = decode_utf8_char(text, end);
        if (!is_white_space(next.code_point)) break;
        end += next.length;
      }
    }
    encode_ordinary(text.substr(stretch_begin, begin - stretch_begin), ids);
    ids.push_back(match->id);
    stretch_begin = end;
    search_from = std::max(search_from, end);
  }
  encode_ordinary(text.substr(stretch_begin), ids);
  return ids;
}

void Tokenizer::encode_ordinary(std::string_view text, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  model_->encode(text, ids);
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

bool Tokenizer::is_hidden_special(int32_t id) const {
  const TokenType type = token_type(id);
  return type == TokenType::Control || type == TokenType::Unknown;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool include_special) const {
  std::string text;
  for (int32_t id : ids) {
    check_id(id, "Tokenizer::decode");
    if (!include_special && is_hidden_special(id)) continue;
    text += bytes_of_token_[id];
  }
  if (model_->strips_leading_space() && !text.empty() && text[0] == ' ') text.erase(0, 1);
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
