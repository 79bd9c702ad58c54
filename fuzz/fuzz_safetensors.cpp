// Fuzz target: a .safetensors file from a stranger, through the builder's reader
// (SafetensorsFile::open: header length, JSON header, dtypes, shapes, byte ranges, overlaps), then
// the row arithmetic the builder does on every tensor it accepted, and a read of every byte each
// tensor claims (so a range the checks let past the mapping is an ASan report, not a silent read).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz/fuzz_allowed_errors.h"
#include "fuzz/memory_file.h"
#include "models/builder/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const phirun::fuzz::MemoryFile file(data, size, "fuzz_safetensors");
  phirun::fuzz::expect_only_runtime_errors([&] {
    const auto safetensors = phirun::builder::SafetensorsFile::open(file.path());
    uint64_t checksum = 0;
    for (const phirun::builder::SafetensorsTensor& tensor : safetensors->tensors()) {
      checksum += uint64_t(tensor.n_rows()) + uint64_t(tensor.row_length());
      for (uint64_t i = 0; i < tensor.n_bytes; ++i) checksum += tensor.data[i];
    }
    if (checksum == 1) std::fputc('\n', stderr);  // keeps the reads from being optimized away
  });
  return 0;
}
