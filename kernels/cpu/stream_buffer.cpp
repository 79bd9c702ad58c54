#include "kernels/cpu/stream_buffer.h"

#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace phirun {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}

uint8_t* allocate_stream_buffer(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  // Smaller buffers keep cache-line alignment: a 2 MiB-aligned start for each would spread small
  // matrices over fresh pages for nothing.
  const size_t alignment = rounded >= kHugePage ? kHugePage : 64;
  void* memory = nullptr;
  if (::posix_memalign(&memory, alignment, rounded) != 0) return nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: a kernel without THP refuses it and one with THP set to "never" ignores it; either
  // way the buffer stays on 4 KiB pages, so the result is not checked.
  if (const size_t whole = rounded / kHugePage * kHugePage; whole > 0) ::madvise(memory, whole, MADV_HUGEPAGE);
#endif
  return static_cast<uint8_t*>(memory);
}

}  // namespace phirun
