// Special-token search: a scan for the first bytes that can start a special token, then a
// comparison with the few candidates for that byte. Vocabularies have tens to a few hundred
// special tokens, so this stays linear in the text in practice.
#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace phirun {

void SpecialTokenMatcher::add(std::string_view text, int32_t id) {
  if (text.empty()) return;
  auto& candidates = by_first_byte_[static_cast<uint8_t>(text[0])];
  for (const Entry& entry : candidates) {
    if (entry.text == text) return;
  }
  // Insert after every entry at least as long: longest first, and first-registered first among
  // equal lengths.
  const auto position = std::find_if(candidates.begin(), candidates.end(),
                                     [&](const Entry& entry) { return entry.text.size() < text.size(); });
  candidates.insert(position, Entry{std::string(text), id});
  ++count_;
}

std::optional<SpecialTokenMatcher::Match> SpecialTokenMatcher::find_next(std::string_view text, size_t from) const {
  if (count_ == 0) return std::nullopt;
  for (size_t offset = from; offset < text.size(); ++offset) {
    const auto& candidates = by_first_byte_[static_cast<uint8_t>(text[offset])];
    for (const Entry& entry : candidates) {
      if (text.compare(offset, entry.text.size(), entry.text) == 0) {
        return Match{offset, entry.text.size(), entry.id};
      }
    }
  }
  return std::nullopt;
}

}  // namespace phirun
