// Finding and patching the fields of a small GGUF held in memory, to make each kind of malformed
// file from a good one. Fields are found by the unique text of a key or tensor name, whose
// encoding GgufWriter fixes: [u64 length][text][fields...].
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace phirun::testing {

// Header layout: "GGUF", u32 version, u64 tensor count, u64 metadata count.
inline constexpr size_t kVersionOffset = 4;
inline constexpr size_t kTensorCountOffset = 8;
inline constexpr size_t kMetadataCountOffset = 16;

template <typename T>
void poke(std::vector<uint8_t>& bytes, size_t offset, T value) {
  if (offset + sizeof(T) > bytes.size()) throw std::out_of_range("poke past the end of the file");
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

template <typename T>
T peek(const std::vector<uint8_t>& bytes, size_t offset) {
  if (offset + sizeof(T) > bytes.size()) throw std::out_of_range("peek past the end of the file");
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// The offset just past `text`, which must occur exactly once (so a patch cannot hit the wrong field).
inline size_t offset_after(const std::vector<uint8_t>& bytes, std::string_view text) {
  const std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t found = all.find(text);
  if (found == std::string_view::npos) throw std::invalid_argument("no " + std::string(text) + " in the file");
  if (all.find(text, found + 1) != std::string_view::npos)
    throw std::invalid_argument(std::string(text) + " occurs more than once in the file");
  return found + text.size();
}

// A metadata entry: [u64 key length][key][u32 value type][value].
inline size_t key_length_offset(const std::vector<uint8_t>& bytes, std::string_view key) {
  return offset_after(bytes, key) - key.size() - sizeof(uint64_t);
}
inline size_t value_type_offset(const std::vector<uint8_t>& bytes, std::string_view key) {
  return offset_after(bytes, key);
}
inline size_t value_offset(const std::vector<uint8_t>& bytes, std::string_view key) {
  return offset_after(bytes, key) + sizeof(uint32_t);
}

// A tensor info: [u64 name length][name][u32 n_dims][u64 dims[n_dims]][u32 type][u64 offset].
struct TensorInfoOffsets {
  size_t n_dims;
  size_t first_dim;
  size_t type;
  size_t offset;
};
inline TensorInfoOffsets tensor_info_offsets(const std::vector<uint8_t>& bytes, std::string_view name) {
  TensorInfoOffsets at{};
  at.n_dims = offset_after(bytes, name);
  at.first_dim = at.n_dims + sizeof(uint32_t);
  at.type = at.first_dim + peek<uint32_t>(bytes, at.n_dims) * sizeof(uint64_t);
  at.offset = at.type + sizeof(uint32_t);
  return at;
}

}  // namespace phirun::testing
