// While a ScopedAllocationLimit lives, any single operator new request above its limit throws
// std::bad_alloc, even in builds where such a request would quietly succeed. Hostile-input tests
// use it to prove that no allocation is sized by an unchecked field of the file.
// Linking allocation_limit.cpp replaces the global operator new and delete of that executable.
#pragma once

#include <cstddef>

namespace phirun::testing {

class ScopedAllocationLimit {
 public:
  explicit ScopedAllocationLimit(size_t max_bytes);
  ScopedAllocationLimit(const ScopedAllocationLimit&) = delete;
  ScopedAllocationLimit& operator=(const ScopedAllocationLimit&) = delete;
  ~ScopedAllocationLimit();

 private:
  size_t previous_;
};

}  // namespace phirun::testing
