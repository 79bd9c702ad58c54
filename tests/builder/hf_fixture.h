// Test checkpoints: writes safetensors files, and rebuilds the random-weight Hugging Face fixtures
// of tests/fixtures/hf/ (committed without their weights) into a temporary folder, with the same
// values the fixture script gave transformers (models/builder/random_weights.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace phirun::testing {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16"
  std::vector<int64_t> shape;
  std::vector<float> values;  // converted to dtype when written
};

// One .safetensors file holding `entries`, in order.
void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries);
// The raw bytes of such a file (tests that corrupt headers start from these).
std::vector<uint8_t> safetensors_bytes(const std::vector<SafetensorsEntry>& entries);

// tests/fixtures/hf/NAME.
std::string fixture_folder(const std::string& name);
nlohmann::json fixture_reference(const std::string& name);

// Fills `folder` with the fixture NAME: its committed files, its weights (dtype and shard count
// from reference.json) and, for fixtures that use SmolLM2's tokenizer, tokenizer.json rebuilt from
// `default_model` (the default GGUF). Returns false when a needed default model is missing.
bool make_fixture_checkpoint(const std::string& name, const std::string& folder, const std::string& default_model);

// Weights for the config.json in `folder`, from the shared random formula: dtype "F32", "F16" or
// "BF16", in `shards` files (with model.safetensors.index.json when more than one).
void write_random_checkpoint(const std::string& folder, uint64_t seed, const std::string& dtype, int shards);

// SmolLM2's tokenizer.json, rebuilt from its GGUF as tests/fixtures/smollm2_tokenizer.py does.
void write_smollm2_tokenizer_json(const std::string& gguf_path, const std::string& out_path);

// FNV-1a 64 of bytes, for compact fingerprints of large arrays in fixtures.
uint64_t fnv1a64(const void* data, size_t n, uint64_t hash = 0xcbf29ce484222325ull);

}  // namespace phirun::testing
