// Turns a stream of token ids into text that never ends in half a UTF-8 character: byte-level
// tokens often hold part of a character (an emoji is 4 bytes and may span 2-4 tokens), so bytes
// wait until their character is complete.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace phirun {

class StreamingDecoder {
 public:
  // Keeps a reference to `tokenizer`, which must outlive the decoder. Control and Unknown tokens
  // are left out unless include_special. The text continues whatever came before the first id
  // (a prompt): a SentencePiece "▁the" gives " the". With starts_text, the ids are a whole text of
  // their own and the result is exactly Tokenizer::decode's, which drops one leading space there.
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool include_special = false, bool starts_text = false);

  // Adds a token; returns the complete characters now available (may be ""). Always UTF-8:
  // bytes that can never become a character (e.g. 0xff, or a continuation byte with no lead) are
  // each replaced by U+FFFD right away, one U+FFFD per maximal ill-formed subpart; bytes that may
  // still become a character wait for the next token. Throws for an id out of range.
  std::string push(int32_t id);

  // End of stream: returns what is still waiting, an incomplete character becoming one U+FFFD
  // (the same result as Python's bytes.decode(errors="replace") on the whole stream), and resets.
  std::string flush();

  // Bytes waiting for the rest of their character (at most 3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  bool include_special_;
  std::string pending_;
  bool starts_text_;
  bool at_start_ = true;  // no bytes handed out or pending since the start or the last flush
};

}  // namespace phirun
