// A tiny but complete `llama` GGUF for tests: seeded random weights, a byte-level BPE vocabulary
// (the 256 GPT-2 byte tokens, a few merges, ChatML control tokens) and every key the loader reads.
// Options drop or override keys and tensors, so tests can build each kind of bad file from it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/quant/tensor_type.h"
#include "runtime/gguf.h"

namespace phirun::testing {

// Changes one weight tensor before it is written.
struct TinyTensorOverride {
  std::vector<int64_t> dims;        // empty: keep the right shape (ne[0] first, as in GGUF)
  std::optional<TensorType> type;   // nullopt: keep the model's type for this tensor
  std::optional<float> fill_value;  // every weight set to this (NaN, to test the loader's check)
};

struct TinyModelOptions {
  uint32_t seed = 1234;
  int64_t n_layers = 2;
  int64_t hidden_size = 64;
  int64_t n_heads = 4;
  int64_t n_kv_heads = 2;
  int64_t ffn_size = 96;
  int64_t context_length = 128;
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  // The 2-D weights (embedding, projections, untied head). Norms are always F32. Quantized types
  // need hidden_size and ffn_size to be multiples of 32.
  TensorType matrix_type = TensorType::Q4_1;
  bool tied_output = true;  // no output.weight: the head is the embedding
  uint64_t alignment = 32;
  bool with_chat_template = true;
  // LongRoPE: rope_factors_short/long.weight (F32, head_dim / 2 factors near 1) and
  // llama.rope.scaling.original_context_length = context_length / 4.
  bool long_rope = false;

  // Edits for building bad files, applied after the good file is assembled.
  std::vector<std::string> drop_keys;
  std::vector<std::pair<std::string, GgufValue>> override_keys;  // replaces the key, or adds it
  std::vector<std::string> drop_tensors;
  std::map<std::string, TinyTensorOverride> override_tensors;
};

// Token texts of the tiny vocabulary: <|endoftext|>, <|im_start|>, <|im_end|> (ids 0..2, Control),
// the 256 bytes spelled byte-level in byte order (id 3 + byte), then one token per merge.
std::vector<std::string> tiny_model_tokens();
std::vector<std::string> tiny_model_merges();
// GPT-2's bytes-to-unicode spelling of one byte, as UTF-8 (' ' -> "Ġ", '\n' -> "Ċ").
std::string gpt2_byte_text(uint8_t byte);

inline constexpr int32_t kTinyEndOfTextId = 0;
inline constexpr int32_t kTinyImStartId = 1;
inline constexpr int32_t kTinyImEndId = 2;
inline constexpr int32_t kTinyFirstByteId = 3;
extern const char* const kTinyChatTemplate;  // ChatML, as SmolLM2's (without the default system turn)

// The whole file in memory, and written to `path` (atomically, through GgufWriter).
std::vector<uint8_t> make_tiny_llama_gguf(const TinyModelOptions& options = {});
void write_tiny_llama_gguf(const std::string& path, const TinyModelOptions& options = {});

}  // namespace phirun::testing
