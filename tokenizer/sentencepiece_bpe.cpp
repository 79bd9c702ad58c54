// The merge loop follows sentencepiece's bpe_model.cc: symbols in a linked list, an agenda of
// candidate pairs ordered by (score of the merged piece, descending; left position, ascending),
// stale candidates recognised when popped because a side is gone or has grown. Encoding a 1.3 MB
// text as one stretch (no pre-tokenizer) is a single O(n log n) pass.
#include "tokenizer/sentencepiece_bpe.h"

#include <cmath>
#include <queue>
#include <stdexcept>

#include "tokenizer/utf8.h"

namespace phirun {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

// "<0x0A>" -> 0x0A; -1 for anything else. Hex digits in either case, as Hugging Face writes
// them upper case and sentencepiece reads both.
int byte_of_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      value |= (c | 0x20) - 'a' + 10;
    } else {
      return -1;
    }
  }
  return value;
}

uint32_t utf8_length_of_lead(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

struct Candidate {
  float score;
  int32_t left;
  int32_t right;
  uint32_t length;  // bytes of the merged piece: a side that grew since makes this stale

  // std::priority_queue keeps the largest on top: highest score, then leftmost.
  bool operator<(const Candidate& other) const {
    if (score != other.score) return score < other.score;
    return left > other.left;
  }
};

}  // namespace

struct SentencePieceBpe::Symbol {
  uint32_t begin;   // byte offset in the normalized text
  uint32_t length;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;  // -1: none
};

SentencePieceBpe::SentencePieceBpe(const TokenizerVocab& vocab)
    : unk_id_(vocab.unk_id), add_space_prefix_(vocab.add_space_prefix) {
  const size_t token_count = vocab.tokens.size();
  if (vocab.scores.size() != token_count) {
    throw std::runtime_error("tokenizer: a \"llama\" (SentencePiece) vocabulary needs one score per token: " +
                             std::to_string(vocab.scores.size()) + " scores for " + std::to_string(token_count) +
                             " tokens");
  }
  byte_ids_.fill(-1);
  int byte_tokens = 0;
  for (size_t id = 0; id < token_count; ++id) {
    const TokenType type = vocab.token_types.empty() ? TokenType::Normal : vocab.token_types[id];
    const std::string& text = vocab.tokens[id];
    if (std::isnan(vocab.scores[id])) {
      throw std::runtime_error("tokenizer: token " + std::to_string(id) + " \"" + text + "\" has score NaN");
    }
    if (type == TokenType::Byte) {
      const int byte = byte_of_byte_token(text);
      if (byte < 0) {
        throw std::runtime_error("tokenizer: token " + std::to_string(id) + " \"" + text +
                                 "\" has type Byte but is not of the form <0xXX>");
      }
      if (byte_ids_[byte] < 0) {
        byte_ids_[byte] = static_cast<int32_t>(id);
        ++byte_tokens;
      }
    } else if (type == TokenType::Normal || type == TokenType::UserDefined || type == TokenType::Unused ||
               type == TokenType::Undefined) {
      // First id wins for a repeated text (sentencepiece refuses such models outright).
      pieces_.try_emplace(text, Piece{static_cast<int32_t>(id), vocab.scores[id], type == TokenType::Unused});
    }
  }
  // ASCII characters that no piece of two or more characters holds (for Llama: "\n", "\r", "\t").
  is_barrier_.fill(false);
  for (int c = 0; c < 128; ++c) is_barrier_[c] = true;
  for (const auto& [text, piece] : pieces_) {
    if (text.size() < 2) continue;
    for (char c : text) is_barrier_[static_cast<uint8_t>(c)] = false;
  }
  if (byte_tokens < 256 && unk_id_ < 0) {
    throw std::runtime_error(
        "tokenizer: a \"llama\" (SentencePiece) vocabulary needs all 256 byte tokens <0x00>.." +
        std::string("<0xFF> or an unknown token for characters it has no piece for; this one has ") +
        std::to_string(byte_tokens) + " byte tokens and no unknown_token_id");
  }
}

const SentencePieceBpe::Piece* SentencePieceBpe::find_piece(std::string_view text) const {
  const auto found = pieces_.find(text);
  return found == pieces_.end() ? nullptr : &found->second;
}

void SentencePieceBpe::encode(std::string_view text, std::vector<int32_t>& ids) const {
  std::string normalized;
  normalized.reserve(text.size() + text.size() / 2 + 3);
  if (add_space_prefix_) normalized += kSpaceMark;
  for (char c : text) {
    if (c == ' ') {
      normalized += kSpaceMark;
    } else {
      normalized += c;
    }
  }
  if (normalized.size() > INT32_MAX) {
    throw std::runtime_error("Tokenizer::encode: a stretch of " + std::to_string(text.size()) +
                             " bytes without special tokens is too long (limit 2 GiB)");
  }
  // A character no multi-character piece holds never merges, so the text on either side of it
  // merges independently: the same result as one pass, with far smaller agendas (the wiki text
  // is one stretch of 1.3 MB, but its lines end in "\r\n", which Llama's pieces never hold).
  const size_t first_id = ids.size();
  size_t stretch_begin = 0;
  for (size_t offset = 0; offset < normalized.size(); ++offset) {
    if (!is_barrier_[static_cast<uint8_t>(normalized[offset])]) continue;
    if (offset > stretch_begin) merge_and_emit(normalized, stretch_begin, offset, ids, first_id);
    emit(normalized, static_cast<uint32_t>(offset), 1, {}, ids, first_id);
    stretch_begin = offset + 1;
  }
  if (normalized.size() > stretch_begin) merge_and_emit(normalized, stretch_begin, normalized.size(), ids, first_id);
}

void SentencePieceBpe::merge_and_emit(std::string_view normalized, size_t begin, size_t end, std::vector<int32_t>& ids,
                                      size_t first_id_of_text) const {
  std::vector<Symbol> symbols;
  symbols.reserve(end - begin);
  for (auto offset = static_cast<uint32_t>(begin); offset < end;) {
    // The text is well-formed UTF-8 (checked by the Tokenizer), so the lead byte gives the length.
    const uint32_t length = utf8_length_of_lead(static_cast<uint8_t>(normalized[offset]));
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({offset, length, index - 1, index + 1});
    offset += length;
  }
  symbols.back().next = -1;

  std::vector<Candidate> storage;
  storage.reserve(symbols.size());
  std::priority_queue<Candidate> agenda(std::less<Candidate>(), std::move(storage));
  // Unused pieces made by a merge are split again at the end; sentencepiece remembers the last
  // pair seen making each one.
  std::unordered_map<int32_t, uint32_t> unused_splits;
  auto consider_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t length = symbols[left].length + symbols[right].length;
    const Piece* piece = find_piece(normalized.substr(symbols[left].begin, length));
    if (!piece) return;
    agenda.push({piece->score, left, right, length});
    if (piece->unused) unused_splits[piece->id] = symbols[left].length;
  };
  for (size_t i = 1; i < symbols.size(); ++i) consider_pair(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!agenda.empty()) {
    const Candidate top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != top.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    consider_pair(left.prev, top.left);
    consider_pair(top.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    emit(normalized, symbols[i].begin, symbols[i].length, unused_splits, ids, first_id_of_text);
  }
}

void SentencePieceBpe::emit(std::string_view normalized, uint32_t begin, uint32_t length,
                            const std::unordered_map<int32_t, uint32_t>& unused_splits, std::vector<int32_t>& ids,
                            size_t first_id_of_text) const {
  const std::string_view text = normalized.substr(begin, length);
  if (const Piece* piece = find_piece(text)) {
    const auto split = piece->unused ? unused_splits.find(piece->id) : unused_splits.end();
    if (split == unused_splits.end()) {
      ids.push_back(piece->id);
      return;
    }
    emit(normalized, begin, split->second, unused_splits, ids, first_id_of_text);
    emit(normalized, begin + split->second, length - split->second, unused_splits, ids, first_id_of_text);
    return;
  }
  // No piece: a single character. Its UTF-8 bytes if each has a byte token, as sentencepiece and
  // Hugging Face do with byte_fallback; otherwise <unk>, one for a run of such characters.
  bool all_bytes = true;
  for (char byte : text) all_bytes = all_bytes && byte_ids_[static_cast<uint8_t>(byte)] >= 0;
  if (all_bytes) {
    for (char byte : text) ids.push_back(byte_ids_[static_cast<uint8_t>(byte)]);
    return;
  }
  if (ids.size() > first_id_of_text && ids.back() == unk_id_) return;
  ids.push_back(unk_id_);
}

std::string SentencePieceBpe::token_bytes(std::string_view text, TokenType type) const {
  if (type == TokenType::Byte) return std::string(1, static_cast<char>(byte_of_byte_token(text)));
  std::string bytes;
  bytes.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) {
    if (text.substr(offset, kSpaceMark.size()) == kSpaceMark) {
      bytes += ' ';
      offset += kSpaceMark.size();
    } else {
      bytes += text[offset++];
    }
  }
  return bytes;
}

}  // namespace phirun
