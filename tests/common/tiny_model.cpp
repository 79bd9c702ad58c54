// Builds the tiny `llama` GGUF described in tiny_model.h. Weights come from a seeded mt19937
// turned into floats by hand (std::uniform_real_distribution differs between standard
// libraries), so every platform builds the same bytes.
#include "tests/common/tiny_model.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <stdexcept>

namespace phirun::testing {

const char* const kTinyChatTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}";

namespace {

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += char(code_point);
  } else if (code_point < 0x800) {
    out += char(0xC0 | (code_point >> 6));
    out += char(0x80 | (code_point & 0x3F));
  } else {
    out += char(0xE0 | (code_point >> 12));
    out += char(0x80 | ((code_point >> 6) & 0x3F));
    out += char(0x80 | (code_point & 0x3F));
  }
}

bool is_printable_latin1(uint32_t byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

// A weight tensor as the writer needs it; `bytes` owns the encoded data.
struct TensorSpec {
  std::string name;
  TensorType type;
  std::vector<int64_t> dims;  // ne[0] first
  bool is_norm;
};

// Uniform in [-1, 1) from 24 random bits.
float next_uniform(std::mt19937& random) { return float(random() >> 8) * (2.0f / 16777216.0f) - 1.0f; }

std::vector<uint8_t> encode_tensor(const TensorSpec& spec, const std::optional<float>& fill_value,
                                   std::mt19937& random) {
  int64_t n_elements = 1;
  for (int64_t dim : spec.dims) n_elements *= dim;
  // Norm weights near 1 and matrices scaled by 1/sqrt(fan_in) keep activations of a forward pass
  // in a sane range, so later tests can run this model.
  const float scale = spec.is_norm ? 0.1f : 1.0f / std::sqrt(float(spec.dims[0]));
  std::vector<float> values(static_cast<size_t>(n_elements));
  for (float& value : values) {
    const float noise = next_uniform(random) * scale;
    value = fill_value ? *fill_value : spec.is_norm ? 1.0f + noise : noise;
  }
  const std::optional<uint64_t> bytes_per_row = row_bytes(spec.type, spec.dims[0]);
  if (!bytes_per_row) throw std::invalid_argument("tiny model: tensor " + spec.name + " rows are not whole blocks");
  std::vector<uint8_t> bytes(static_cast<size_t>(*bytes_per_row * uint64_t(n_elements / spec.dims[0])));
  type_traits(spec.type).quantize(values.data(), bytes.data(), n_elements);
  return bytes;
}

std::vector<TensorSpec> tensor_specs(const TinyModelOptions& options) {
  const int64_t hidden = options.hidden_size;
  const int64_t head_dim = hidden / options.n_heads;
  const int64_t kv_width = options.n_kv_heads * head_dim;
  const int64_t vocab = int64_t(tiny_model_tokens().size());
  const TensorType matrix = options.matrix_type;
  std::vector<TensorSpec> specs;
  specs.push_back({"token_embd.weight", matrix, {hidden, vocab}, false});
  if (!options.tied_output) specs.push_back({"output.weight", matrix, {hidden, vocab}, false});
  for (int64_t layer = 0; layer < options.n_layers; ++layer) {
    const std::string block = "blk." + std::to_string(layer) + ".";
    specs.push_back({block + "attn_norm.weight", TensorType::F32, {hidden}, true});
    specs.push_back({block + "attn_q.weight", matrix, {hidden, hidden}, false});
    specs.push_back({block + "attn_k.weight", matrix, {hidden, kv_width}, false});
    specs.push_back({block + "attn_v.weight", matrix, {hidden, kv_width}, false});
    specs.push_back({block + "attn_output.weight", matrix, {hidden, hidden}, false});
    specs.push_back({block + "ffn_norm.weight", TensorType::F32, {hidden}, true});
    specs.push_back({block + "ffn_gate.weight", matrix, {hidden, options.ffn_size}, false});
    specs.push_back({block + "ffn_up.weight", matrix, {hidden, options.ffn_size}, false});
    specs.push_back({block + "ffn_down.weight", matrix, {options.ffn_size, hidden}, false});
  }
  if (options.long_rope)
    for (const char* name : {"rope_factors_short.weight", "rope_factors_long.weight"})
      specs.push_back({name, TensorType::F32, {head_dim / 2}, true});
  // Last, so that with hidden * 4 a multiple of the alignment the data section ends with no
  // padding: then every proper prefix of the file lacks tensor bytes (the truncation walk).
  specs.push_back({"output_norm.weight", TensorType::F32, {hidden}, true});
  return specs;
}

std::vector<std::pair<std::string, GgufValue>> metadata(const TinyModelOptions& options) {
  const std::vector<std::string> tokens = tiny_model_tokens();
  std::vector<int32_t> token_types(tokens.size(), 1);                                           // Normal
  token_types[kTinyEndOfTextId] = token_types[kTinyImStartId] = token_types[kTinyImEndId] = 3;  // Control
  std::vector<std::pair<std::string, GgufValue>> keys = {
      {"general.architecture", GgufValue::of_string("llama")},
      {"general.name", GgufValue::of_string("tiny-llama")},
      {"llama.block_count", GgufValue::of_u32(uint32_t(options.n_layers))},
      {"llama.context_length", GgufValue::of_u32(uint32_t(options.context_length))},
      {"llama.embedding_length", GgufValue::of_u32(uint32_t(options.hidden_size))},
      {"llama.feed_forward_length", GgufValue::of_u32(uint32_t(options.ffn_size))},
      {"llama.attention.head_count", GgufValue::of_u32(uint32_t(options.n_heads))},
      {"llama.attention.head_count_kv", GgufValue::of_u32(uint32_t(options.n_kv_heads))},
      {"llama.rope.freq_base", GgufValue::of_f32(options.rope_theta)},
      {"llama.attention.layer_norm_rms_epsilon", GgufValue::of_f32(options.rms_eps)},
      {"llama.rope.dimension_count", GgufValue::of_u32(uint32_t(options.hidden_size / options.n_heads))},
      {"tokenizer.ggml.model", GgufValue::of_string("gpt2")},
      {"tokenizer.ggml.pre", GgufValue::of_string("gpt2")},
      {"tokenizer.ggml.tokens", GgufValue::of_strings(tokens)},
      {"tokenizer.ggml.token_type", GgufValue::of_i32s(token_types)},
      {"tokenizer.ggml.merges", GgufValue::of_strings(tiny_model_merges())},
      {"tokenizer.ggml.bos_token_id", GgufValue::of_u32(kTinyImStartId)},
      {"tokenizer.ggml.eos_token_id", GgufValue::of_u32(kTinyImEndId)},
      {"tokenizer.ggml.padding_token_id", GgufValue::of_u32(kTinyImEndId)},
      {"tokenizer.ggml.add_bos_token", GgufValue::of_bool(false)},
  };
  if (options.long_rope)
    keys.emplace_back("llama.rope.scaling.original_context_length",
                      GgufValue::of_u32(uint32_t(options.context_length / 4)));
  if (options.with_chat_template) keys.emplace_back("tokenizer.chat_template", GgufValue::of_string(kTinyChatTemplate));

  for (const std::string& key : options.drop_keys) {
    const auto found = std::find_if(keys.begin(), keys.end(), [&](const auto& entry) { return entry.first == key; });
    if (found == keys.end()) throw std::invalid_argument("tiny model: no key " + key + " to drop");
    keys.erase(found);
  }
  for (const auto& override_key : options.override_keys) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda (the fuzz build).
    const std::string& key = override_key.first;
    const auto found = std::find_if(keys.begin(), keys.end(), [&](const auto& entry) { return entry.first == key; });
    if (found != keys.end()) {
      found->second = override_key.second;
    } else {
      keys.emplace_back(key, override_key.second);
    }
  }
  return keys;
}

}  // namespace

std::string gpt2_byte_text(uint8_t byte) {
  // bytes_to_unicode(): printable Latin-1 bytes stand for themselves; the other 68 bytes take
  // U+0100, U+0101, ... in byte order.
  uint32_t code_point = byte;
  if (!is_printable_latin1(byte)) {
    uint32_t skipped = 0;
    for (uint32_t lower = 0; lower < byte; ++lower) skipped += is_printable_latin1(lower) ? 0 : 1;
    code_point = 256 + skipped;
  }
  std::string text;
  append_utf8(text, code_point);
  return text;
}

std::vector<std::string> tiny_model_merges() {
  // Each merge's parts and result are tokens: "Ġ" is the byte-level space.
  return {"Ġ t", "h e", "Ġt he", "i n", "e r"};
}

std::vector<std::string> tiny_model_tokens() {
  std::vector<std::string> tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  for (uint32_t byte = 0; byte < 256; ++byte) tokens.push_back(gpt2_byte_text(uint8_t(byte)));
  for (const std::string& merge : tiny_model_merges()) {
    std::string joined = merge;
    joined.erase(joined.find(' '), 1);
    tokens.push_back(joined);
  }
  return tokens;
}

namespace {

// Assembles the writer (which copies nothing) while the encoded tensors are alive, and hands it
// to `use` to produce the bytes or the file.
template <typename Use>
void with_tiny_writer(const TinyModelOptions& options, Use use) {
  if (options.n_heads <= 0 || options.hidden_size % options.n_heads != 0)
    throw std::invalid_argument("tiny model: n_heads must divide hidden_size (override the key for bad files)");
  GgufWriter writer(options.alignment);
  for (auto& [key, value] : metadata(options)) writer.set(key, value);

  std::mt19937 random(options.seed);
  std::deque<std::vector<uint8_t>> tensor_bytes;  // a deque never moves what it holds
  for (TensorSpec spec : tensor_specs(options)) {
    if (std::find(options.drop_tensors.begin(), options.drop_tensors.end(), spec.name) != options.drop_tensors.end())
      continue;
    std::optional<float> fill_value;
    if (const auto found = options.override_tensors.find(spec.name); found != options.override_tensors.end()) {
      if (!found->second.dims.empty()) spec.dims = found->second.dims;
      if (found->second.type) spec.type = *found->second.type;
      fill_value = found->second.fill_value;
    }
    const std::vector<uint8_t>& bytes = tensor_bytes.emplace_back(encode_tensor(spec, fill_value, random));
    writer.add_tensor(spec.name, spec.type, spec.dims, bytes.data(), bytes.size());
  }
  use(writer);
}

}  // namespace

std::vector<uint8_t> make_tiny_llama_gguf(const TinyModelOptions& options) {
  std::vector<uint8_t> bytes;
  with_tiny_writer(options, [&](const GgufWriter& writer) { bytes = writer.to_bytes(); });
  return bytes;
}

void write_tiny_llama_gguf(const std::string& path, const TinyModelOptions& options) {
  with_tiny_writer(options, [&](const GgufWriter& writer) { writer.write(path); });
}

}  // namespace phirun::testing
