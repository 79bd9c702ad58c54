// Fuzz target: a Hugging Face tokenizer.json from a stranger, through the builder's tokenizer
// export (vocabulary, merges, added and special tokens, pre-tokenizer detection, padding to the
// embedding rows). The reader takes a folder, so the input is written to tokenizer.json in a
// folder of this process's own in /dev/shm (memory, not disk; /tmp where there is no /dev/shm).
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz/fuzz_allowed_errors.h"
#include "models/builder/hf_config.h"
#include "models/builder/tokenizer_export.h"

namespace {

// A Llama-shaped config whose 512 embedding rows bound the vocabulary the tokenizer may have.
constexpr const char* kConfig = R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2,
  "num_key_value_heads": 1, "vocab_size": 512, "max_position_embeddings": 256, "rope_theta": 10000.0,
  "rms_norm_eps": 1e-05, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2})";

struct Folder {
  Folder() {
    std::string pattern = (std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp");
    pattern += "/phirun-fuzz-tokenizer-XXXXXX";
    if (!mkdtemp(pattern.data())) std::abort();
    path = pattern;
  }
  ~Folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::filesystem::path path;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Folder folder;
  static const phirun::builder::HfConfig config = phirun::builder::parse_hf_config(kConfig, "config.json");
  {
    std::ofstream file(folder.path / "tokenizer.json", std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    if (!file) std::abort();
  }
  phirun::fuzz::expect_only_runtime_errors([&] {
    const phirun::builder::ExportedTokenizer exported = phirun::builder::export_tokenizer(folder.path.string(), config);
    // An accepted vocabulary fits the embedding (padded up to it, never past it).
    if (exported.n_tokens <= 0 || exported.n_tokens > 512) std::abort();
  });
  return 0;
}
