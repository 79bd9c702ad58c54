// The parts of a SentencePiece `tokenizer.model` (a protobuf ModelProto) a GGUF vocabulary needs:
// every piece with its score and type, the model type and the special ids. Read with a small
// protobuf wire-format walker, so the builder needs no protobuf or sentencepiece library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace phirun::builder {

// sentencepiece_model.proto's SentencePiece.Type, which is also llama.cpp's token type numbering.
enum class PieceType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct SentencePiece {
  std::string piece;
  float score = 0.0f;
  PieceType type = PieceType::Normal;
};

struct SentencePieceModel {
  std::vector<SentencePiece> pieces;
  int32_t model_type = 1;  // TrainerSpec.model_type: 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  bool add_dummy_prefix = true;  // NormalizerSpec.add_dummy_prefix
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
};

// Throws std::runtime_error("PATH: problem") for a file that is not a well-formed ModelProto
// or holds no pieces.
SentencePieceModel read_sentencepiece_model(const std::string& path);
SentencePieceModel parse_sentencepiece_model(const uint8_t* bytes, uint64_t size, const std::string& name);

}  // namespace phirun::builder
