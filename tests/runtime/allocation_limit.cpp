// Global operator new/delete replacements that enforce ScopedAllocationLimit. Every form that a
// sanitizer runtime would otherwise supply is replaced, all on malloc/free, so allocations and
// deallocations always pair up (AddressSanitizer checks that they do). The aligned forms are left
// to the runtime: they pair among themselves.
#include "tests/runtime/allocation_limit.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace phirun::testing {
namespace {
std::atomic<size_t> max_request_bytes{0};  // 0: no limit
}  // namespace

ScopedAllocationLimit::ScopedAllocationLimit(size_t max_bytes) : previous_(max_request_bytes.exchange(max_bytes)) {}
ScopedAllocationLimit::~ScopedAllocationLimit() { max_request_bytes.store(previous_); }

}  // namespace phirun::testing

namespace {

void* allocate(std::size_t size) {
  const size_t limit = phirun::testing::max_request_bytes.load(std::memory_order_relaxed);
  if (limit != 0 && size > limit) throw std::bad_alloc();
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}

void* allocate_or_null(std::size_t size) noexcept {
  try {
    return allocate(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate_or_null(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate_or_null(size); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
