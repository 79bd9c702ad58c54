// Fuzz target: a GGUF file from a stranger, through the reader (GgufFile::parse), the
// hyper-parameter checks (config_from_gguf) and, when those pass, the whole model load (weights,
// tokenizer, chat template) and one forward pass of one token.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "fuzz/fuzz_allowed_errors.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace {

// Model::load reads a path: the input goes to an anonymous memory file, opened through /proc.
std::string memory_file_with(const uint8_t* data, size_t size, int& fd) {
  fd = memfd_create("fuzz_gguf", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (size_t written = 0; written < size;) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) std::abort();
    written += size_t(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bool config_ok = false;
  phirun::fuzz::expect_only_runtime_errors([&] {
    const phirun::GgufFile file = phirun::GgufFile::parse(data, size, "fuzz.gguf");
    phirun::config_from_gguf(file);
    config_ok = true;
  });
  if (!config_ok) return 0;
  int fd = -1;
  const std::string path = memory_file_with(data, size, fd);
  phirun::fuzz::expect_only_runtime_errors([&] {
    const auto model = phirun::Model::load(path, phirun::LoadOptions{1});
    phirun::SessionOptions options;
    options.context_length = 4;
    phirun::Session session(*model, options);
    const int32_t token = 0;
    session.append({&token, 1});
  });
  close(fd);
  return 0;
}
