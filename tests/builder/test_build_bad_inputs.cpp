// Bad input to the builder, each with the one clear error it must give and no output file left
// behind: configs, checkpoints, safetensors headers, output paths.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "models/builder/build.h"
#include "models/builder/safetensors.h"
#include "tests/builder/hf_fixture.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

namespace fs = std::filesystem;

nlohmann::json base_config() {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"hidden_size", 64},
          {"intermediate_size", 96},
          {"num_hidden_layers", 1},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 2},
          {"vocab_size", 32064},
          {"max_position_embeddings", 512},
          {"tie_word_embeddings", true}};
}

// A good checkpoint, then `damage` applied to its folder.
struct BadCase {
  std::string name;
  std::function<void(const std::string& folder)> damage;
  std::string expected;  // a part of the error message
};

void write_config(const std::string& folder, const nlohmann::json& config) {
  std::ofstream(folder + "/config.json") << config.dump();
}

std::string make_checkpoint(const testing::TempDir& dir) {
  const std::string folder = dir.file("model");
  fs::create_directories(folder);
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(testing::fixture_folder("phi3-tiny") + "/" + file, folder + "/" + file);
  write_config(folder, base_config());
  testing::write_random_checkpoint(folder, 1, "F32", 1);
  return folder;
}

// Rewrites model.safetensors with its header JSON edited by `edit` (the data stays as it is).
void edit_header(const std::string& folder, const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = folder + "/model.safetensors";
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t length;
  std::memcpy(&length, bytes.data(), 8);
  nlohmann::json header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + int64_t(length));
  edit(header);
  const std::string text = header.dump();
  const uint64_t new_length = text.size();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&new_length), 8);
  out << text;
  out.write(bytes.data() + 8 + length, std::streamsize(bytes.size() - 8 - length));
}

void set_config(const std::string& folder, const std::string& key, const nlohmann::json& value) {
  nlohmann::json config = base_config();
  if (value.is_null()) {
    config.erase(key);
  } else {
    config[key] = value;
  }
  write_config(folder, config);
}

const char* const kDown = "model.layers.0.mlp.down_proj.weight";

std::vector<BadCase> cases() {
  return {
      {"unsupported architecture", [](const std::string& f) { set_config(f, "architectures", {"GPT2LMHeadModel"}); },
       "config.json: unsupported architecture 'GPT2LMHeadModel' (phirun build converts: GemmaForCausalLM, "
       "LlamaForCausalLM, "
       "MistralForCausalLM, Phi3ForCausalLM, Qwen2ForCausalLM)"},
      {"missing key", [](const std::string& f) { set_config(f, "hidden_size", nullptr); },
       "config.json: key 'hidden_size' is missing"},
      {"mistyped key", [](const std::string& f) { set_config(f, "num_hidden_layers", "1"); },
       "config.json: key 'num_hidden_layers' must be an integer, found \"1\""},
      {"heads do not divide", [](const std::string& f) { set_config(f, "num_key_value_heads", 3); },
       "num_key_value_heads 3 does not divide num_attention_heads 4"},
      {"bias", [](const std::string& f) { set_config(f, "attention_bias", true); },
       "'attention_bias' is true: biases are not supported yet"},
      {"llama3 rope scaling",
       [](const std::string& f) {
         set_config(f, "rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}});
       },
       "RoPE scaling type 'llama3' is not supported for LlamaForCausalLM"},
      {"config not JSON", [](const std::string& f) { std::ofstream(f + "/config.json") << "{\"hidden_size\": 64,"; },
       "config.json: not valid JSON"},
      {"no config", [](const std::string& f) { fs::remove(f + "/config.json"); },
       "config.json: cannot open (a Hugging Face model folder needs config.json)"},
      {"tensor missing", [](const std::string& f) { edit_header(f, [](nlohmann::json& h) { h.erase(kDown); }); },
       "tensor model.layers.0.mlp.down_proj.weight is missing from the checkpoint"},
      {"wrong shape",
       [](const std::string& f) { edit_header(f, [](nlohmann::json& h) {
                                    h[kDown]["shape"] = {96, 64};
                                  }); },
       "tensor model.layers.0.mlp.down_proj.weight has shape [96, 64], the config implies [64, 96]"},
      {"offsets past the file",
       [](const std::string& f) {
         edit_header(f, [](nlohmann::json& h) {
           const uint64_t end = h[kDown]["data_offsets"][1].get<uint64_t>();
           h[kDown]["data_offsets"] = {end + 1000000000ull, end + 1000000000ull + 64 * 96 * 4};
         });
       },
       "tensor model.layers.0.mlp.down_proj.weight runs past the end of the file"},
      {"overlapping tensors",
       [](const std::string& f) {
         edit_header(f, [](nlohmann::json& h) {
           h[kDown]["data_offsets"] = h["model.layers.0.mlp.up_proj.weight"]["data_offsets"];
         });
       },
       "overlap"},
      {"size does not match dtype",
       [](const std::string& f) { edit_header(f, [](nlohmann::json& h) { h[kDown]["dtype"] = "F16"; }); },
       "spans 24576 bytes but its dtype and shape need 12288"},
      {"unsupported dtype",
       [](const std::string& f) {
         edit_header(f, [](nlohmann::json& h) {
           h[kDown]["dtype"] = "I32";  // same size as F32: only the type is wrong
         });
       },
       "tensor model.layers.0.mlp.down_proj.weight has dtype I32: phirun builds from F32, F16 or BF16 weights"},
      {"unknown dtype",
       [](const std::string& f) { edit_header(f, [](nlohmann::json& h) { h[kDown]["dtype"] = "Q4"; }); },
       "has unknown dtype 'Q4'"},
      {"header not JSON",
       [](const std::string& f) {
         std::fstream file(f + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
         file.seekp(8);
         file.write("[[[[", 4);
       },
       "model.safetensors: header is not valid JSON"},
      {"header length past the file",
       [](const std::string& f) {
         std::fstream file(f + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
         const uint64_t length = 90'000'000;
         file.write(reinterpret_cast<const char*>(&length), 8);
       },
       "header length 90000000 runs past the end of the file"},
      {"header length too large",
       [](const std::string& f) {
         std::fstream file(f + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
         const uint64_t length = 1ull << 40;
         file.write(reinterpret_cast<const char*>(&length), 8);
       },
       "exceeds 100 MB"},
      {"truncated file", [](const std::string& f) { fs::resize_file(f + "/model.safetensors", 5); },
       "too short to be a safetensors file (5 bytes)"},
      {"index names a file outside the folder",
       [](const std::string& f) {
         std::ofstream(f + "/model.safetensors.index.json")
             << R"({"weight_map": {"model.norm.weight": "../../etc/passwd"}})";
       },
       "weight_map names a file outside the folder: '../../etc/passwd'"},
      {"not finite",
       [](const std::string& f) {
         // The first weight of the embedding (data offset 0: names sort it first) becomes NaN.
         std::fstream file(f + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
         uint64_t length;
         file.read(reinterpret_cast<char*>(&length), 8);
         nlohmann::json header;
         {
           std::string text(length, ' ');
           file.read(text.data(), std::streamsize(length));
           header = nlohmann::json::parse(text);
         }
         const uint64_t offset = header["model.embed_tokens.weight"]["data_offsets"][0].get<uint64_t>();
         file.seekp(std::streamoff(8 + length + offset));
         const float nan = std::nanf("");
         file.write(reinterpret_cast<const char*>(&nan), 4);
       },
       "tensor token_embd.weight holds a value that is not finite (row 0)"},
  };
}

class BadCheckpoint : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadCheckpoint, OneClearErrorAndNoOutput) {
  testing::TempDir dir;
  const std::string folder = make_checkpoint(dir);
  GetParam().damage(folder);
  builder::BuildOptions options;
  options.input = folder;
  options.output = dir.file("out.gguf");
  try {
    builder::build_model(options);
    FAIL() << "built a damaged checkpoint";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(GetParam().expected), std::string::npos) << error.what();
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model"});
}

INSTANTIATE_TEST_SUITE_P(Builder, BadCheckpoint, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<BadCase>& param) {
                           std::string name = param.param.name;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

void expect_output_error(const builder::BuildOptions& options, const std::string& expected) {
  try {
    builder::build_model(options);
    ADD_FAILURE() << "no error; expected: " << expected;
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
  }
}

TEST(BadOutput, RefusedBeforeAnythingIsRead) {
  testing::TempDir dir;
  testing::write_tiny_llama_gguf(dir.file("tiny.gguf"));
  builder::BuildOptions options;
  options.input = dir.file("tiny.gguf");
  options.output = dir.file("tiny.gguf");
  expect_output_error(options, "the output path is the input");
  options.output = dir.file("./tiny.gguf");
  expect_output_error(options, "the output path is the input");
  options.force = true;
  expect_output_error(options, "the output path is the input");  // --force never overwrites the input

  options.force = false;
  std::ofstream(dir.file("existing.gguf")) << "keep me";
  options.output = dir.file("existing.gguf");
  expect_output_error(options, "existing.gguf: exists (--force overwrites it)");
  options.output = dir.file("missing/out.gguf");
  expect_output_error(options, "does not exist");
  options.output = dir.path().string();
  expect_output_error(options, "is a folder");
  options.output = "/proc/phirun-test.gguf";  // cannot be created, whoever runs the test
  expect_output_error(options, "/proc/phirun-test.gguf");
  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directories(dir.file("locked"));
    fs::permissions(dir.file("locked"), fs::perms::owner_read | fs::perms::owner_exec);
    options.output = dir.file("locked/out.gguf");
    expect_output_error(options, "cannot write into folder");
    fs::permissions(dir.file("locked"), fs::perms::owner_all);
  }
  std::ifstream kept(dir.file("existing.gguf"));
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "keep me");

  options.input = dir.file("nothing-here");
  options.output = dir.file("out.gguf");
  expect_output_error(options, "nothing-here: no such file or folder");
  options.input = dir.file("existing.gguf");  // not GGUF, not a folder
  expect_output_error(options, "existing.gguf");
}

TEST(BadOutput, RandomWeightsNeedAConfigAndATokenizer) {
  testing::TempDir dir;
  builder::BuildOptions options;
  options.random_weights = true;
  options.output = dir.file("out.gguf");
  expect_output_error(options, "--random-weights needs --config config.json");
  std::ofstream(dir.file("config.json")) << base_config().dump();
  options.random_config = dir.file("config.json");
  expect_output_error(options, "a random-weight model still needs a tokenizer: give --tokenizer FOLDER");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"config.json"});
}

}  // namespace
}  // namespace phirun
