// GGUF v3: the model file format (llama.cpp's), read from a memory mapping with every count,
// length, type, offset and size validated before use, and written atomically.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/quant/tensor_type.h"
#include "runtime/mapped_file.h"

namespace phirun {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
std::string_view gguf_type_name(GgufType type);

// One metadata value. Integers of every width are held as int64/uint64, floats as double; the
// original type is kept so a writer can reproduce it.
struct GgufValue {
  GgufType type = GgufType::U32;
  GgufType element_type = GgufType::U8;  // arrays only
  uint64_t u = 0;                        // U8/U16/U32/U64, BOOL
  int64_t i = 0;                         // I8/I16/I32/I64
  double f = 0.0;                        // F32/F64
  std::string string;                    // STRING
  // Arrays: exactly one of these holds the elements, by element_type.
  std::vector<uint64_t> unsigned_items;  // unsigned integers and bools
  std::vector<int64_t> signed_items;     // signed integers
  std::vector<double> float_items;
  std::vector<std::string> string_items;
  std::vector<GgufValue> array_items;  // nested arrays

  bool is_integer() const;
  bool is_signed_integer() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
  uint64_t array_size() const;

  static GgufValue of_u32(uint32_t value);
  static GgufValue of_i32(int32_t value);
  static GgufValue of_u64(uint64_t value);
  static GgufValue of_f32(float value);
  static GgufValue of_bool(bool value);
  static GgufValue of_string(std::string value);
  static GgufValue of_strings(std::vector<std::string> values);
  static GgufValue of_i32s(const std::vector<int32_t>& values);
  static GgufValue of_f32s(const std::vector<float>& values);
};

struct GgufTensor {
  std::string name;
  TensorType type = TensorType::F32;
  uint32_t n_dims = 0;
  std::array<int64_t, 4> ne{1, 1, 1, 1};  // ne[0] is the row length (innermost)
  uint64_t offset = 0;                    // relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // inside the mapping (reader only)

  int64_t rows() const { return int64_t(n_elements / uint64_t(ne[0])); }
};

// Limits on what a file may claim, so no allocation is ever sized by an unchecked field.
struct GgufLimits {
  uint64_t max_tensors = 65536;
  uint64_t max_metadata = 65536;
  uint64_t max_string_bytes = 64ull << 20;  // one string (chat templates are a few KB)
  uint64_t max_array_items = 16ull << 20;   // vocabularies are ~200k
  // Across all arrays, nested ones included: an empty nested array takes 12 bytes in the file
  // but a whole GgufValue in memory, so the per-array cap alone would let a file multiply.
  uint64_t max_total_array_items = 32ull << 20;
  // Nested arrays: no model file uses them, and each costs a whole GgufValue (~180 bytes) for
  // 12 bytes of file, so a file of them alone would take 15 times its size in memory.
  uint64_t max_nested_array_items = 4096;
  uint32_t max_array_depth = 4;
  int64_t max_dim = int64_t(1) << 40;
};

class GgufFile {
 public:
  // Maps and validates the whole file. Throws std::runtime_error("PATH: problem") on any defect.
  static GgufFile open(const std::string& path, const GgufLimits& limits = {});
  // Validates a buffer held by the caller (tests, fuzzing); `name` stands in for the path.
  static GgufFile parse(const uint8_t* bytes, uint64_t size, const std::string& name, const GgufLimits& limits = {});

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  const GgufValue* find(std::string_view key) const;
  const GgufTensor* find_tensor(std::string_view name) const;

  // Typed getters: a missing key or a value of the wrong kind is an error naming the file and key.
  uint64_t get_uint(std::string_view key) const;  // any integer type, must be >= 0
  double get_float(std::string_view key) const;   // any float or integer type
  const std::string& get_string(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::optional<uint64_t> find_uint(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;

  // "PATH: message", for errors raised by users of the file.
  std::string error_prefix() const { return path_ + ": "; }

 private:
  std::string path_;
  std::shared_ptr<MappedFile> mapping_;  // null when parsing a caller's buffer
  uint32_t version_ = 0;
  uint64_t file_size_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensor> tensors_;

  friend class GgufParser;
};

// Collects metadata and tensors, then writes a GGUF v3 file to PATH.tmp-* and renames it into
// place only when every byte is written and flushed: a failure never leaves a partial PATH.
class GgufWriter {
 public:
  explicit GgufWriter(uint64_t alignment = 32);
  void set(std::string key, GgufValue value);  // replaces an existing key, else appends
  // Copies nothing: `data` must stay valid until write(); n_bytes must match type and dims.
  void add_tensor(std::string name, TensorType type, std::vector<int64_t> dims, const void* data, uint64_t n_bytes);

  // A tensor whose bytes are made while the file is written, so a builder never holds the whole
  // model: `produce` runs once, in tensor order, and must pass exactly n_bytes to `emit`, in as
  // many pieces as it likes. An exception from it abandons the file (nothing is left behind).
  using TensorEmitter = std::function<void(const void* bytes, uint64_t n)>;
  using TensorProducer = std::function<void(const TensorEmitter& emit)>;
  void add_tensor(std::string name, TensorType type, std::vector<int64_t> dims, uint64_t n_bytes,
                  TensorProducer produce);
  void write(const std::string& path) const;
  // The whole file as bytes (tests build small files in memory).
  std::vector<uint8_t> to_bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> dims;
    const void* data;
    uint64_t n_bytes;
    TensorProducer produce;  // set instead of data for streamed tensors
  };
  template <typename Sink>
  void emit(Sink& sink) const;
  void check_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& dims, uint64_t n_bytes) const;

  uint64_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace phirun
