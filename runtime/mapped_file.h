// A read-only memory mapping of a whole file. Weights are used in place from the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace phirun {

class MappedFile {
 public:
  // Throws std::runtime_error("PATH: reason") when the file cannot be opened or mapped.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Tells the kernel that bytes [offset, offset + size) are done with: their pages leave this
  // process's resident memory (they are read again from the file if touched). A builder that
  // streams a model through calls this so its footprint stays near one tensor, not the file.
  void release(uint64_t offset, uint64_t size) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace phirun
