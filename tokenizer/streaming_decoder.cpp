// Streaming decode: append each token's bytes to a small pending buffer and hand out the prefix
// that consists of whole characters (or of bytes that are invalid whatever comes next).
#include "tokenizer/streaming_decoder.h"

#include "tokenizer/utf8.h"

namespace phirun {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool include_special, bool starts_text)
    : tokenizer_(tokenizer), include_special_(include_special), starts_text_(starts_text) {}

std::string StreamingDecoder::push(int32_t id) {
  std::string_view bytes = tokenizer_.token_bytes_view(id);
  if (!include_special_ && tokenizer_.is_hidden_special(id)) return {};
  // As Tokenizer::decode: a SentencePiece text of its own loses the space its first bytes start with.
  if (at_start_ && !bytes.empty()) {
    at_start_ = false;
    if (starts_text_ && tokenizer_.strips_leading_space() && bytes[0] == ' ') bytes.remove_prefix(1);
  }
  pending_.append(bytes);

  std::string ready;
  size_t offset = 0;
  while (offset < pending_.size()) {
    const Utf8Char step = decode_utf8_char(pending_, offset);
    if (step.status == Utf8Char::Status::Truncated) break;  // the next token may complete it
    if (step.status == Utf8Char::Status::Valid) {
      ready.append(pending_, offset, step.length);
    } else {
      ready.append(kReplacementCharacter);
    }
    offset += step.length;
  }
  pending_.erase(0, offset);
  return ready;
}

std::string StreamingDecoder::flush() {
  std::string rest = repair_utf8(pending_);
  pending_.clear();
  at_start_ = true;
  return rest;
}

}  // namespace phirun
