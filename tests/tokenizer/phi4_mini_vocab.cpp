// Rebuilding Phi-4-mini's vocabulary from o200k's ranks: quicktok's o200k.vocab format (u32 count,
// then per token u16 length, its bytes, u32 rank), the merges derivation, and the added tokens.
#include "tests/tokenizer/phi4_mini_vocab.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "tests/tokenizer/oracle_fixtures.h"
#include "tokenizer/byte_level.h"

namespace phirun::testing {

std::string o200k_vocab_path_for_tests() {
  if (const char* path = std::getenv("PHIRUN_O200K_VOCAB")) return path;
  const std::filesystem::path models = std::filesystem::path(default_model_path_for_tests()).parent_path();
  return (models.parent_path() / "tokenizers" / "o200k.vocab").string();
}

std::vector<std::string> read_o200k_ranks(const std::string& path) {
  const std::string data = read_file_bytes(path);
  auto read_le = [&](size_t offset, size_t bytes) {
    if (offset + bytes > data.size()) throw std::runtime_error(path + ": truncated at byte " + std::to_string(offset));
    uint32_t value = 0;
    for (size_t i = 0; i < bytes; ++i) value |= uint32_t(uint8_t(data[offset + i])) << (8 * i);
    return value;
  };
  const uint32_t count = read_le(0, 4);
  std::vector<std::string> ranks(count);
  std::vector<bool> seen(count, false);
  size_t offset = 4;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t length = read_le(offset, 2);
    read_le(offset + 2 + length, 4);  // bounds check
    const uint32_t rank = read_le(offset + 2 + length, 4);
    if (rank >= count || seen[rank])
      throw std::runtime_error(path + ": rank " + std::to_string(rank) + " out of order");
    seen[rank] = true;
    ranks[rank] = data.substr(offset + 2, length);
    offset += 6 + length;
  }
  if (offset != data.size()) throw std::runtime_error(path + ": trailing bytes");
  return ranks;
}

std::vector<std::string> merges_from_ranks(const std::vector<std::string>& ranks) {
  std::unordered_map<std::string_view, uint32_t> rank_of;
  rank_of.reserve(ranks.size());
  for (uint32_t rank = 0; rank < ranks.size(); ++rank) rank_of.emplace(ranks[rank], rank);
  std::vector<std::string> merges;
  merges.reserve(ranks.size());
  std::vector<std::string_view> parts;
  for (uint32_t rank = 0; rank < ranks.size(); ++rank) {
    const std::string_view token = ranks[rank];
    if (token.size() < 2) continue;
    parts.clear();
    for (size_t i = 0; i < token.size(); ++i) parts.push_back(token.substr(i, 1));
    for (;;) {  // merge the adjacent pair of lowest rank below the token's own, until none is left
      size_t best = parts.size();
      uint32_t best_rank = rank;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        const std::string_view joined(parts[i].data(), parts[i].size() + parts[i + 1].size());
        const auto found = rank_of.find(joined);
        if (found != rank_of.end() && found->second < best_rank) {
          best_rank = found->second;
          best = i;
        }
      }
      if (best == parts.size()) break;
      parts[best] = std::string_view(parts[best].data(), parts[best].size() + parts[best + 1].size());
      parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    if (parts.size() != 2) {
      throw std::runtime_error("o200k rank " + std::to_string(rank) + ": merging its bytes ends in " +
                               std::to_string(parts.size()) + " parts, not 2");
    }
    merges.push_back(byte_level_encode(parts[0]) + " " + byte_level_encode(parts[1]));
  }
  return merges;
}

uint64_t fnv1a64_of_strings(const std::vector<std::string>& strings) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const std::string& text : strings) {
    for (char byte : text) {
      hash ^= static_cast<uint8_t>(byte);
      hash *= 0x100000001b3ull;
    }
    hash *= 0x100000001b3ull;  // the 0 separator: xor with 0 changes nothing
  }
  return hash;
}

TokenizerVocab phi4_mini_vocab(const std::string& o200k_path) {
  const nlohmann::json fixture = read_json_fixture("phi4_mini_vocab.json");
  const std::vector<std::string> ranks = read_o200k_ranks(o200k_path);
  if (ranks.size() != fixture.at("o200k_count").get<size_t>()) {
    throw std::runtime_error(o200k_path + ": " + std::to_string(ranks.size()) + " ranks, expected " +
                             fixture.at("o200k_count").dump());
  }
  TokenizerVocab vocab;
  vocab.model = "gpt2";
  vocab.pre = "gpt-4o";
  for (const std::string& token : ranks) vocab.tokens.push_back(byte_level_encode(token));
  vocab.token_types.assign(vocab.tokens.size(), TokenType::Normal);
  for (const auto& token : fixture.at("tokens_past_o200k")) {
    if (token.at("id").get<size_t>() != vocab.tokens.size()) throw std::runtime_error("phi4_mini_vocab.json: id gap");
    const std::string type = token.at("type").get<std::string>();
    vocab.tokens.push_back(token.at("content").get<std::string>());
    vocab.token_types.push_back(type == "control"        ? TokenType::Control
                                : type == "user_defined" ? TokenType::UserDefined
                                                         : TokenType::Normal);
    const auto id = static_cast<int32_t>(vocab.tokens.size() - 1);
    if (token.at("lstrip").get<bool>()) vocab.lstrip_ids.push_back(id);
    if (token.at("rstrip").get<bool>()) vocab.rstrip_ids.push_back(id);
  }
  vocab.merges = merges_from_ranks(ranks);
  vocab.bos_id = fixture.at("bos_id").get<int32_t>();
  vocab.eos_id = fixture.at("eos_id").get<int32_t>();
  vocab.unk_id = fixture.at("unk_id").get<int32_t>();
  vocab.pad_id = fixture.at("pad_id").get<int32_t>();
  vocab.add_bos = fixture.at("add_bos").get<bool>();
  return vocab;
}

}  // namespace phirun::testing
