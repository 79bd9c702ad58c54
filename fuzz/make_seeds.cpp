// Writes the binary seeds of the fuzz corpora (run from the source root, in the fuzz build):
// the tiny llama model of the tests, with quantized and float weights, and a few near-misses
// of it, so the fuzzers start from files that reach the model loader and the tokenizers.
#include <cstdio>
#include <string>

#include "tests/common/tiny_model.h"

int main() {
  using phirun::testing::TinyModelOptions;
  const std::string dir = "fuzz/corpus/fuzz_gguf/";
  // Small on purpose: one layer, 32 wide; every seed stays near 12 KB.
  TinyModelOptions small;
  small.n_layers = 1;
  small.hidden_size = 32;
  small.n_heads = 2;
  small.n_kv_heads = 1;
  small.ffn_size = 32;
  small.context_length = 128;
  phirun::testing::write_tiny_llama_gguf(dir + "tiny-llama.gguf", small);
  TinyModelOptions f16 = small;
  f16.matrix_type = phirun::TensorType::F16;
  f16.tied_output = false;
  f16.with_chat_template = false;
  phirun::testing::write_tiny_llama_gguf(dir + "tiny-llama-f16-untied.gguf", f16);
  TinyModelOptions q8 = small;
  q8.matrix_type = phirun::TensorType::Q8_0;
  q8.n_kv_heads = 2;
  phirun::testing::write_tiny_llama_gguf(dir + "tiny-llama-q8_0.gguf", q8);
  std::puts("seeds written to fuzz/corpus/fuzz_gguf/");
  return 0;
}
