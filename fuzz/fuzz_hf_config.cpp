// Fuzz target: a Hugging Face config.json from a stranger, through the builder's reader
// (parse_hf_config: architecture, dimensions, RoPE and its scaling factors, special token ids),
// then the derived sizes the builder computes from what it accepted.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_allowed_errors.h"
#include "models/builder/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  phirun::fuzz::expect_only_runtime_errors([&] {
    const phirun::builder::HfConfig config = phirun::builder::parse_hf_config(text, "config.json");
    if (config.rotary_dims() < 0) std::abort();  // accepted dimensions give a sane rotary width
  });
  return 0;
}
