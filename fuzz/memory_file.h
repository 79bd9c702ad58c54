// A fuzz input as a file: readers that take a path (memory-mapped models, checkpoints) read it
// from an anonymous memory file through /proc/self/fd, so no fuzz run touches the disk.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace phirun::fuzz {

class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size, const char* name) : fd_(memfd_create(name, MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    for (size_t written = 0; written < size;) {
      const ssize_t n = write(fd_, data + written, size - written);
      if (n <= 0) std::abort();
      written += size_t(n);
    }
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace phirun::fuzz
