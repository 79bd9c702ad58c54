// The memory a model and its KV caches need, checked before anything is allocated against the
// caller's limit (--max-memory, LoadOptions::max_memory_bytes) or, without one, the machine's
// physical memory: a model that cannot fit is refused with both figures, never swapped to death.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace phirun {

// Bytes the kernel reports as available now (MemAvailable), or 0 when it cannot be read.
uint64_t available_memory_bytes();
// Bytes of physical memory, or UINT64_MAX when unknown.
uint64_t physical_memory_bytes();
// "512.0 MiB", "1.25 GiB".
std::string describe_bytes(uint64_t bytes);
// Parses "4G", "512M", "1.5GiB", "100000" (bytes). Throws std::runtime_error for anything else.
uint64_t parse_byte_size(const std::string& text);

// The error of a refused budget (the C API reports it as PHIRUN_ERROR_OUT_OF_MEMORY).
class MemoryBudgetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MemoryNeed {
  uint64_t weights_bytes = 0;  // the model's tensors (as the kernels hold them)
  double kv_bytes = 0;         // a double: a product of lying counts must not wrap
  std::string kv_what;         // "a KV cache of 4096 tokens"
  std::string advice = "ask for a shorter context or a smaller model";
};

// Throws MemoryBudgetError("PREFIX needs X (weights A + KV B) but ...") when the need exceeds
// max_memory_bytes (0: no limit of the caller's; the physical memory is then the limit).
void check_memory_need(const std::string& prefix, const MemoryNeed& need, uint64_t max_memory_bytes);

}  // namespace phirun
