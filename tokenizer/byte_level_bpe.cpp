// Byte-level BPE: the byte -> token table, the merge table checked against the vocabulary, and
// the encode loop (pre-tokenize, spell bytes, merge).
#include "tokenizer/byte_level_bpe.h"

#include <stdexcept>
#include <string>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace phirun {
namespace {

constexpr int32_t kNoToken = -1;

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

}  // namespace

ByteLevelBpe::ByteLevelBpe(const TokenizerVocab& vocab, const FindToken& find_token)
    : pre_tokenizer_(pre_tokenizer_from_name(vocab.pre)) {
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

  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& merge = vocab.merges[rank];
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

void ByteLevelBpe::encode(std::string_view text, std::vector<int32_t>& ids) const {
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

std::string ByteLevelBpe::token_bytes(std::string_view text, TokenType) const {
  // Hugging Face's byte-level decoder keeps a token's text as is when some character of it is not
  // a byte-level character; do the same.
  return byte_level_decode(text).value_or(std::string(text));
}

}  // namespace phirun
