// Writes the inputs of the bad-input table (tests/bad_inputs/cases.txt) into one folder: the tiny
// test model and GGUF files whose hyper-parameters, ids or chat template lie, safetensors
// checkpoints with broken headers, config.json and tokenizer.json files that are wrong in one way
// each, and /load transcripts. Everything is made here, so nothing binary is committed.
//   make_bad_inputs FOLDER
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "tests/common/tiny_model.h"

namespace {

namespace fs = std::filesystem;
using phirun::GgufValue;
using phirun::testing::TinyModelOptions;

fs::path g_folder;

void write_text(const std::string& name, const std::string& text) {
  fs::create_directories((g_folder / name).parent_path());
  std::ofstream(g_folder / name, std::ios::binary) << text;
}

void write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories((g_folder / name).parent_path());
  std::ofstream(g_folder / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void gguf_with_key(const std::string& name, const std::string& key, GgufValue value) {
  TinyModelOptions options;
  options.override_keys.emplace_back(key, std::move(value));
  phirun::testing::write_tiny_llama_gguf((g_folder / name).string(), options);
}

// A safetensors file: the 8-byte little-endian header length, the header, then `data_bytes` zeros.
std::vector<uint8_t> safetensors(const std::string& header, uint64_t declared_length, size_t data_bytes) {
  std::vector<uint8_t> bytes(8 + header.size() + data_bytes, 0);
  for (int i = 0; i < 8; ++i) bytes[size_t(i)] = uint8_t(declared_length >> (8 * i));
  std::copy(header.begin(), header.end(), bytes.begin() + 8);
  return bytes;
}

// A checkpoint folder: a good config.json and `model.safetensors` as given.
void checkpoint_file(const std::string& name, const std::vector<uint8_t>& model_safetensors) {
  write_text(name + "/config.json", R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
    "intermediate_size": 96, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
    "vocab_size": 300, "max_position_embeddings": 512, "tie_word_embeddings": true})");
  write_bytes(name + "/model.safetensors", model_safetensors);
}

void checkpoint(const std::string& name, const std::string& header, size_t data_bytes) {
  checkpoint_file(name, safetensors(header, header.size(), data_bytes));
}

// config.json for --random-weights: a good small Llama with `edit` spliced in (later keys win).
void config(const std::string& name, const std::string& edit) {
  write_text(name, R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 96,
    "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
    "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "tie_word_embeddings": true)" +
                       (edit.empty() ? "" : ", " + edit) + "}");
}

// A folder holding only `text` as its tokenizer.json.
void tokenizer(const std::string& folder, const std::string& text) { write_text(folder + "/tokenizer.json", text); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_bad_inputs FOLDER\n");
    return 2;
  }
  g_folder = argv[1];
  fs::create_directories(g_folder);

  // GGUF: the good tiny model, then files that break the reader or lie in their hyper-parameters.
  const std::vector<uint8_t> good = phirun::testing::make_tiny_llama_gguf();
  write_bytes("tiny.gguf", good);
  write_bytes("truncated.gguf", std::vector<uint8_t>(good.begin(), good.begin() + 1000));
  std::vector<uint8_t> magic = good;
  magic[0] = 'X';
  write_bytes("bad-magic.gguf", magic);
  write_bytes("empty.gguf", {});
  gguf_with_key("zero-heads.gguf", "llama.attention.head_count", GgufValue::of_u32(0));
  gguf_with_key("odd-kv-heads.gguf", "llama.attention.head_count_kv", GgufValue::of_u32(3));
  gguf_with_key("nan-eps.gguf", "llama.attention.layer_norm_rms_epsilon",
                GgufValue::of_f32(std::numeric_limits<float>::quiet_NaN()));
  gguf_with_key("huge-layers.gguf", "llama.block_count", GgufValue::of_u32(1'000'000'000));
  gguf_with_key("huge-context.gguf", "llama.context_length", GgufValue::of_u32(4'000'000'000u));
  gguf_with_key("bos-past-vocab.gguf", "tokenizer.ggml.bos_token_id", GgufValue::of_u32(100000));
  gguf_with_key("template-syntax.gguf", "tokenizer.chat_template",
                GgufValue::of_string("{% for message in messages %}{{ message.content }"));
  gguf_with_key("template-raise.gguf", "tokenizer.chat_template",
                GgufValue::of_string("{{ raise_exception('only user and assistant roles are supported') }}"));
  gguf_with_key(
      "template-loop.gguf", "tokenizer.chat_template",
      GgufValue::of_string("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"));
  TinyModelOptions nan_weights;
  nan_weights.override_tensors["blk.0.attn_norm.weight"].fill_value = std::numeric_limits<float>::quiet_NaN();
  phirun::testing::write_tiny_llama_gguf((g_folder / "nan-norm.gguf").string(), nan_weights);

  // Safetensors checkpoints (folders with a good config.json).
  checkpoint_file("st-short", {1, 2, 3});
  checkpoint_file("st-header-past-end", safetensors("{}", 4096, 0));
  checkpoint("st-not-json", "{not json", 0);
  checkpoint("st-unknown-dtype", R"({"w": {"dtype": "F128", "shape": [2], "data_offsets": [0, 32]}})", 32);
  checkpoint("st-size-mismatch", R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 20);
  checkpoint("st-past-end", R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8);
  checkpoint("st-overlap", R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
    "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
             16);
  checkpoint("st-huge-shape",
             R"({"w": {"dtype": "F32", "shape": [1099511627776, 1099511627776], "data_offsets": [0, 4]}})", 4);

  // config.json for `phirun build --random-weights` (the tokenizer comes from a good folder).
  write_text("not-json.json", "{\"architectures\": [");
  config("unknown-arch.json", R"("architectures": ["GPT2LMHeadModel"])");
  config("zero-heads.json", R"("num_attention_heads": 0)");
  config("non-dividing-heads.json", R"("num_attention_heads": 5)");
  config("huge-layers.json", R"("num_hidden_layers": 100000000)");
  config("string-hidden.json", R"("hidden_size": "64")");
  config("negative-eps.json", R"("rms_norm_eps": -1)");

  // tokenizer.json folders for the same command (config.json good).
  config("good-config.json", "");
  tokenizer("tok-not-json", "{\"model\": ");
  tokenizer("tok-no-model", R"({"added_tokens": []})");
  tokenizer("tok-bad-vocab", R"({"model": {"type": "BPE", "vocab": [1, 2], "merges": []}})");
  tokenizer("tok-id-past-rows", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 5000}, "merges": []},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}})");
  tokenizer("tok-bad-merge", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [42]},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}})");
  tokenizer("tok-merge-no-space", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["ab"]},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}})");
  fs::create_directories(g_folder / "tok-missing");

  // /load transcripts.
  write_text("chat-not-json.json", "[{\"role\": \"user\", ");
  write_text("chat-no-messages.json", R"({"format": "phirun-chat", "version": 1})");
  write_text("chat-no-role.json", R"([{"content": "hi"}])");
  write_text("chat-number-content.json", R"([{"role": "user", "content": 42}])");
  write_text("chat-not-list.json", R"("hello")");
  write_text("chat-number-overflow.json", R"([{"role": "user", "content": "hi", "tokens": 1e999999}])");

  // Prompt files and calibration text.
  write_text("prompt.txt", "hello");
  std::puts("bad inputs written");
  return 0;
}
