// Fuzz target: tokenizers. An input starting with "GGUF" is a file whose tokenizer metadata is
// loaded (vocab_from_gguf, the Tokenizer's own checks) and then used to encode and decode; any
// other input is UTF-8-or-not text for one of three fixed vocabularies (its first byte picks
// which): encoded, decoded back, and its bytes decoded as ids, in one piece and streamed.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_allowed_errors.h"
#include "runtime/tokenizer_loader.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/tokenizer.h"

namespace {

std::unique_ptr<phirun::Tokenizer> tokenizer_of(const phirun::GgufFile& file) {
  return std::make_unique<phirun::Tokenizer>(phirun::vocab_from_gguf(file));
}

const std::vector<std::unique_ptr<phirun::Tokenizer>>& fixed_tokenizers() {
  static const auto tokenizers = [] {
    std::vector<std::unique_ptr<phirun::Tokenizer>> list;
    for (const char* name : {"/tests/data/ggml-vocab/ggml-vocab-llama-spm.gguf",
                             "/tests/data/ggml-vocab/ggml-vocab-phi-3.gguf", "/fuzz/corpus/fuzz_gguf/tiny-llama.gguf"})
      list.push_back(tokenizer_of(phirun::GgufFile::open(std::string(PHIRUN_SOURCE_DIR) + name)));
    return list;
  }();
  return tokenizers;
}

void exercise(const phirun::Tokenizer& tokenizer, std::string_view text) {
  phirun::fuzz::expect_only_runtime_errors([&] {
    for (bool special : {true, false}) {
      const std::vector<int32_t> ids = tokenizer.encode(text, special);
      tokenizer.decode(ids, true);
      tokenizer.decode(ids, false);
    }
  });
  // The text's bytes as ids, some of them outside the vocabulary: a clear error, never a crash.
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 2 <= text.size() && ids.size() < 64; i += 2)
    ids.push_back(int32_t(uint8_t(text[i])) << 8 | uint8_t(text[i + 1]));
  phirun::fuzz::expect_only_runtime_errors([&] { tokenizer.decode(ids, true); });
  phirun::fuzz::expect_only_runtime_errors([&] {
    phirun::StreamingDecoder decoder(tokenizer, true, false);
    for (int32_t id : ids) decoder.push(id);
    decoder.flush();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.starts_with("GGUF")) {
    std::unique_ptr<phirun::Tokenizer> tokenizer;
    phirun::fuzz::expect_only_runtime_errors(
        [&] { tokenizer = tokenizer_of(phirun::GgufFile::parse(data, size, "fuzz.gguf")); });
    if (!tokenizer) return 0;
    std::string every_token;  // the vocabulary's own texts: the merges and special tokens all fire
    for (int32_t id = 0; id < tokenizer->vocab_size() && every_token.size() < 4096; ++id)
      every_token += tokenizer->token_text(id);
    exercise(*tokenizer, every_token);
    exercise(*tokenizer, "Hello world! <|im_start|>user\n 12345 \xe4\xbd\xa0\xe5\xa5\xbd \xff\xfe");
    return 0;
  }
  if (size == 0) return 0;
  const auto& tokenizers = fixed_tokenizers();
  exercise(*tokenizers[data[0] % tokenizers.size()], input.substr(1));
  return 0;
}
