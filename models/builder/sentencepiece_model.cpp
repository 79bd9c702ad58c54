// Protobuf wire format, as much as ModelProto needs: each field is a varint key
// (field number << 3 | wire type) followed by a varint (type 0), 8 bytes (1), a length-prefixed
// payload (2) or 4 bytes (5). Unknown fields are skipped, as protobuf readers do.
#include "models/builder/sentencepiece_model.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace phirun::builder {

namespace {

class WireReader {
 public:
  WireReader(const uint8_t* begin, const uint8_t* end, const std::string& name) : at_(begin), end_(end), name_(name) {}

  bool done() const { return at_ >= end_; }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= end_) fail("a varint runs past the end");
      const uint8_t byte = *at_++;
      value |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
    fail("a varint is longer than 10 bytes");
  }

  // Returns the field number and sets `wire_type`.
  uint32_t key(int& wire_type) {
    const uint64_t key = varint();
    wire_type = int(key & 7);
    if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff) fail("a field number is out of range");
    return uint32_t(key >> 3);
  }

  WireReader submessage() {
    const uint64_t length = varint();
    if (length > uint64_t(end_ - at_)) fail("a field's length runs past the end");
    WireReader inner(at_, at_ + length, name_);
    at_ += length;
    return inner;
  }

  std::string bytes() {
    WireReader inner = submessage();
    return std::string(reinterpret_cast<const char*>(inner.at_), size_t(inner.end_ - inner.at_));
  }

  float fixed32_float() {
    if (end_ - at_ < 4) fail("a float field runs past the end");
    float value;
    std::memcpy(&value, at_, 4);
    at_ += 4;
    return value;
  }

  void skip(int wire_type) {
    switch (wire_type) {
      case 0:
        varint();
        return;
      case 1:
        if (end_ - at_ < 8) fail("a fixed64 field runs past the end");
        at_ += 8;
        return;
      case 2:
        submessage();
        return;
      case 5:
        if (end_ - at_ < 4) fail("a fixed32 field runs past the end");
        at_ += 4;
        return;
      default:
        fail("unsupported wire type " + std::to_string(wire_type));
    }
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw std::runtime_error(name_ + ": not a valid SentencePiece model: " + problem);
  }

 private:
  const uint8_t* at_;
  const uint8_t* end_;
  const std::string& name_;
};

// int32 fields hold negative values as 10-byte varints of the sign-extended value.
int32_t as_int32(uint64_t value) { return int32_t(uint32_t(value)); }

SentencePiece parse_piece(WireReader reader) {
  SentencePiece piece;
  while (!reader.done()) {
    int wire_type;
    const uint32_t field = reader.key(wire_type);
    if (field == 1 && wire_type == 2) {
      piece.piece = reader.bytes();
    } else if (field == 2 && wire_type == 5) {
      piece.score = reader.fixed32_float();
    } else if (field == 3 && wire_type == 0) {
      const uint64_t type = reader.varint();
      if (type < 1 || type > 6) reader.fail("a piece has unknown type " + std::to_string(type));
      piece.type = PieceType(type);
    } else {
      reader.skip(wire_type);
    }
  }
  return piece;
}

void parse_trainer_spec(WireReader reader, SentencePieceModel& model) {
  while (!reader.done()) {
    int wire_type;
    const uint32_t field = reader.key(wire_type);
    if (wire_type != 0) {
      reader.skip(wire_type);
      continue;
    }
    const uint64_t value = reader.varint();
    switch (field) {
      case 3:
        model.model_type = as_int32(value);
        break;
      case 35:
        model.byte_fallback = value != 0;
        break;
      case 40:
        model.unk_id = as_int32(value);
        break;
      case 41:
        model.bos_id = as_int32(value);
        break;
      case 42:
        model.eos_id = as_int32(value);
        break;
      case 43:
        model.pad_id = as_int32(value);
        break;
      default:
        break;
    }
  }
}

void parse_normalizer_spec(WireReader reader, SentencePieceModel& model) {
  while (!reader.done()) {
    int wire_type;
    const uint32_t field = reader.key(wire_type);
    if (field == 3 && wire_type == 0) {
      model.add_dummy_prefix = reader.varint() != 0;
    } else {
      reader.skip(wire_type);
    }
  }
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(const uint8_t* bytes, uint64_t size, const std::string& name) {
  SentencePieceModel model;
  WireReader reader(bytes, bytes + size, name);
  while (!reader.done()) {
    int wire_type;
    const uint32_t field = reader.key(wire_type);
    if (field == 1 && wire_type == 2) {
      model.pieces.push_back(parse_piece(reader.submessage()));
    } else if (field == 2 && wire_type == 2) {
      parse_trainer_spec(reader.submessage(), model);
    } else if (field == 3 && wire_type == 2) {
      parse_normalizer_spec(reader.submessage(), model);
    } else {
      reader.skip(wire_type);
    }
  }
  if (model.pieces.empty()) reader.fail("it holds no pieces");
  return model;
}

SentencePieceModel read_sentencepiece_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_sentencepiece_model(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

}  // namespace phirun::builder
