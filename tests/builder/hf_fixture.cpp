// Safetensors writing and the fixture checkpoints. The tensor names and shapes come from the
// builder's own plan of the config (the names transformers uses), the values from the shared
// random formula, so nothing here restates what the fixture script knows.
#include "tests/builder/hf_fixture.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "kernels/quant/half.h"
#include "models/builder/hf_config.h"
#include "models/builder/random_weights.h"
#include "models/builder/tensor_plan.h"
#include "runtime/gguf.h"

namespace phirun::testing {

namespace fs = std::filesystem;

std::vector<uint8_t> safetensors_bytes(const std::vector<SafetensorsEntry>& entries) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<uint8_t> data;
  for (const SafetensorsEntry& entry : entries) {
    const uint64_t begin = data.size();
    for (float value : entry.values) {
      if (entry.dtype == "F32") {
        uint8_t bytes[4];
        std::memcpy(bytes, &value, 4);
        data.insert(data.end(), bytes, bytes + 4);
      } else {
        const uint16_t half = entry.dtype == "BF16" ? fp32_to_bf16(value) : fp32_to_fp16(value);
        data.push_back(uint8_t(half & 0xff));
        data.push_back(uint8_t(half >> 8));
      }
    }
    header[entry.name] = {{"dtype", entry.dtype}, {"shape", entry.shape}, {"data_offsets", {begin, data.size()}}};
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // as safetensors pads: data starts 8-aligned
  // resize + memcpy: GCC 12's -Warray-bounds misfires on vector::insert into a small vector.
  const uint64_t length = text.size();
  std::vector<uint8_t> bytes(8 + text.size() + data.size());
  std::memcpy(bytes.data(), &length, 8);
  std::memcpy(bytes.data() + 8, text.data(), text.size());
  if (!data.empty()) std::memcpy(bytes.data() + 8 + text.size(), data.data(), data.size());
  return bytes;
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries) {
  const std::vector<uint8_t> bytes = safetensors_bytes(entries);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error(path + ": cannot write");
}

std::string fixture_folder(const std::string& name) {
  return std::string(PHIRUN_SOURCE_DIR) + "/tests/fixtures/hf/" + name;
}

nlohmann::json fixture_reference(const std::string& name) {
  std::ifstream in(fixture_folder(name) + "/reference.json");
  return nlohmann::json::parse(in);
}

uint64_t fnv1a64(const void* data, size_t n, uint64_t hash) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void write_smollm2_tokenizer_json(const std::string& gguf_path, const std::string& out_path) {
  const GgufFile file = GgufFile::open(gguf_path);
  const auto& tokens = file.find("tokenizer.ggml.tokens")->string_items;
  const auto& merges = file.find("tokenizer.ggml.merges")->string_items;
  const GgufValue* types = file.find("tokenizer.ggml.token_type");
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array(), pairs = nlohmann::json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    vocab[tokens[id]] = id;
    const int64_t type = types->signed_items.empty() ? int64_t(types->unsigned_items[id]) : types->signed_items[id];
    if (type == 3)
      added.push_back({{"id", id},
                       {"content", tokens[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", true}});
  }
  for (const std::string& merge : merges) {
    const size_t space = merge.find(' ');
    pairs.push_back({merge.substr(0, space), merge.substr(space + 1)});
  }
  const nlohmann::json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  const nlohmann::json document = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level}}}},
      {"post_processor", nullptr},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"},
        {"unk_token", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", pairs}}}};
  std::ofstream out(out_path, std::ios::binary);
  out << document.dump();
}

void write_random_checkpoint(const std::string& folder, uint64_t seed, const std::string& dtype, int shards) {
  const builder::HfConfig config = builder::read_hf_config((fs::path(folder) / "config.json").string());
  std::map<std::string, builder::TensorPlan> by_source;  // sorted by checkpoint name
  for (builder::TensorPlan& plan : builder::plan_tensors(config))
    if (!plan.source.empty()) by_source.emplace(plan.source, std::move(plan));
  auto shard_file = [&](size_t shard) {
    return shards == 1
               ? std::string("model.safetensors")
               : "model-0000" + std::to_string(shard + 1) + "-of-0000" + std::to_string(shards) + ".safetensors";
  };
  std::vector<std::vector<SafetensorsEntry>> files(static_cast<size_t>(shards));
  nlohmann::json weight_map = nlohmann::json::object();
  size_t count = 0;
  for (const auto& [source_name, plan] : by_source) {
    SafetensorsEntry entry{source_name, dtype, std::vector<int64_t>(plan.dims.rbegin(), plan.dims.rend()), {}};
    entry.values.resize(size_t(plan.n_elements()));
    // Checkpoint row order: the generator indexes elements as the checkpoint stores them.
    builder::random_rows(source_name, seed, plan.dims.size() == 1, plan.row_length(), 0, plan.n_rows(),
                         entry.values.data());
    const size_t shard = count++ % size_t(shards);
    weight_map[source_name] = shard_file(shard);
    files[shard].push_back(std::move(entry));
  }
  for (size_t shard = 0; shard < files.size(); ++shard)
    write_safetensors((fs::path(folder) / shard_file(shard)).string(), files[shard]);
  if (shards > 1) {
    std::ofstream index(fs::path(folder) / "model.safetensors.index.json");
    index << nlohmann::json{{"metadata", nlohmann::json::object()}, {"weight_map", weight_map}}.dump(1);
  }
}

bool make_fixture_checkpoint(const std::string& name, const std::string& folder, const std::string& default_model) {
  const fs::path source = fixture_folder(name);
  fs::create_directories(folder);
  for (const auto& entry : fs::directory_iterator(source))
    if (entry.path().filename() != "reference.json")
      fs::copy_file(entry.path(), fs::path(folder) / entry.path().filename(), fs::copy_options::overwrite_existing);
  // The other Phi-3 fixtures share phi3-tiny's tokenizer.json instead of committing copies.
  // Mistral's uses the same SentencePiece vocabulary (Llama 2's 32000 pieces) without Phi-3's
  // added chat tokens, which would run past its 32000 embedding rows.
  const fs::path phi3_tokenizer = fs::path(fixture_folder("phi3-tiny")) / "tokenizer.json";
  if (name != "phi3-tiny" && name.starts_with("phi3-"))
    fs::copy_file(phi3_tokenizer, fs::path(folder) / "tokenizer.json", fs::copy_options::overwrite_existing);
  if (name.starts_with("mistral-")) {
    std::ifstream in(phi3_tokenizer);
    nlohmann::json tokenizer = nlohmann::json::parse(in);
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& added : tokenizer["added_tokens"])
      if (added["id"].get<int64_t>() < 32000) kept.push_back(added);
    tokenizer["added_tokens"] = kept;
    std::ofstream(fs::path(folder) / "tokenizer.json") << tokenizer.dump();
  }
  if (!fs::exists(fs::path(folder) / "tokenizer.json")) {
    if (!fs::exists(default_model)) return false;
    write_smollm2_tokenizer_json(default_model, (fs::path(folder) / "tokenizer.json").string());
  }
  const nlohmann::json reference = fixture_reference(name);
  const std::string dtype = reference["dtype"] == "float32" ? "F32" : reference["dtype"] == "bfloat16" ? "BF16" : "F16";
  const int shards = reference["shards"].get<int>();
  const uint64_t seed = reference["seed"].get<uint64_t>();

  write_random_checkpoint(folder, seed, dtype, shards);
  return true;
}

}  // namespace phirun::testing
