// GGUF v3 reader. A cursor walks the header, metadata and tensor infos; every read is
// bounds-checked against the buffer, every count and length against GgufLimits and against the
// bytes left, so a hostile file can neither read out of bounds nor size a huge allocation.
#include <bit>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

#include "runtime/gguf.h"

namespace phirun {

static_assert(std::endian::native == std::endian::little, "GGUF is read in place: little-endian hosts only");

namespace {

// Smallest encoded size of one array element of this type, used to reject counts that the
// remaining bytes cannot hold before anything is allocated.
uint64_t min_encoded_size(GgufType type) {
  switch (type) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
    case GgufType::STRING:
      return 8;
    case GgufType::ARRAY:
      return 12;
  }
  return 1;
}

bool is_valid_type(uint32_t raw) { return raw <= uint32_t(GgufType::F64); }

// What is being read, for error messages: pieces joined only when an error is raised, so the
// hundreds of thousands of vocabulary strings cost no message building.
struct Label {
  std::string_view first, second = {}, third = {};
  std::string str() const { return std::string(first).append(second).append(third); }
};

}  // namespace

class GgufParser {
 public:
  GgufParser(const uint8_t* bytes, uint64_t size, const std::string& name, const GgufLimits& limits)
      : bytes_(bytes), size_(size), name_(name), limits_(limits) {}

  void parse_into(GgufFile& file) {
    file.path_ = name_;
    file.file_size_ = size_;
    if (size_ < 4) fail("file too small to be GGUF (" + std::to_string(size_) + " bytes)");
    if (std::memcmp(bytes_, "GGUF", 4) != 0) fail("not a GGUF file (bad magic)");
    position_ = 4;
    file.version_ = read_u32({"version"});
    if (file.version_ == 0x03000000 || file.version_ == 0x02000000) fail("big-endian GGUF files are not supported");
    if (file.version_ != 3 && file.version_ != 2)
      fail("unsupported GGUF version " + std::to_string(file.version_) + " (phirun reads version 3)");
    const uint64_t n_tensors = read_u64({"tensor count"});
    const uint64_t n_metadata = read_u64({"metadata count"});
    if (n_tensors > limits_.max_tensors)
      fail("tensor count " + std::to_string(n_tensors) + " exceeds the limit of " +
           std::to_string(limits_.max_tensors));
    if (n_metadata > limits_.max_metadata)
      fail("metadata count " + std::to_string(n_metadata) + " exceeds the limit of " +
           std::to_string(limits_.max_metadata));

    std::unordered_set<std::string> keys;
    file.metadata_.reserve(size_t(std::min<uint64_t>(n_metadata, remaining() / 13 + 1)));
    for (uint64_t k = 0; k < n_metadata; ++k) {
      std::string key = read_string({"metadata key #", std::to_string(k)});
      const uint32_t raw_type = read_u32({"type of key ", key});
      if (!is_valid_type(raw_type)) fail("key " + key + ": unknown value type " + std::to_string(raw_type));
      GgufValue value = read_value(GgufType(raw_type), key, 0);
      if (!keys.insert(key).second) fail("duplicate metadata key " + key);
      file.metadata_.emplace_back(std::move(key), std::move(value));
    }

    if (const GgufValue* alignment = file.find("general.alignment")) {
      if (alignment->type != GgufType::U32) fail("general.alignment must be a u32");
      if (alignment->u == 0 || (alignment->u & (alignment->u - 1)) != 0)
        fail("general.alignment " + std::to_string(alignment->u) + " is not a power of two");
      file.alignment_ = alignment->u;
    }

    std::unordered_set<std::string> names;
    file.tensors_.reserve(size_t(std::min<uint64_t>(n_tensors, remaining() / 24 + 1)));
    for (uint64_t t = 0; t < n_tensors; ++t) {
      GgufTensor tensor = read_tensor_info(t, file.alignment_);
      if (!names.insert(tensor.name).second) fail("duplicate tensor name " + tensor.name);
      file.tensors_.push_back(std::move(tensor));
    }

    // The data section starts at the next multiple of the alignment.
    const uint64_t padding = (file.alignment_ - position_ % file.alignment_) % file.alignment_;
    file.data_offset_ = position_ + padding;
    if (!file.tensors_.empty() && file.data_offset_ > size_)
      fail("truncated: data section starts at byte " + std::to_string(file.data_offset_) + " but the file has " +
           std::to_string(size_));
    const uint64_t data_bytes = size_ >= file.data_offset_ ? size_ - file.data_offset_ : 0;
    for (GgufTensor& tensor : file.tensors_) {
      if (tensor.offset > data_bytes || tensor.n_bytes > data_bytes - tensor.offset)
        fail("tensor " + tensor.name + " (" + std::to_string(tensor.n_bytes) + " bytes at data offset " +
             std::to_string(tensor.offset) + ") lies outside the file (" + std::to_string(data_bytes) +
             " bytes of tensor data): truncated or corrupt");
      tensor.data = bytes_ + file.data_offset_ + tensor.offset;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw std::runtime_error(name_ + ": " + problem); }

  uint64_t remaining() const { return size_ - position_; }

  void need(uint64_t n, const Label& what) const {
    if (n > remaining())
      fail("truncated while reading " + what.str() + " at byte " + std::to_string(position_) + " (needs " +
           std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left)");
  }

  template <typename T>
  T read_scalar(const Label& what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_ + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }
  uint32_t read_u32(const Label& what) { return read_scalar<uint32_t>(what); }
  uint64_t read_u64(const Label& what) { return read_scalar<uint64_t>(what); }

  std::string read_string(const Label& what) {
    const uint64_t length = read_u64(what);
    if (length > limits_.max_string_bytes)
      fail(what.str() + ": string length " + std::to_string(length) + " exceeds the limit of " +
           std::to_string(limits_.max_string_bytes) + " bytes");
    need(length, what);
    std::string text(reinterpret_cast<const char*>(bytes_ + position_), size_t(length));
    position_ += length;
    return text;
  }

  GgufValue read_value(GgufType type, const std::string& key, uint32_t depth) {
    const Label what{"value of key ", key};
    GgufValue value;
    value.type = type;
    switch (type) {
      case GgufType::U8:
        value.u = read_scalar<uint8_t>(what);
        break;
      case GgufType::U16:
        value.u = read_scalar<uint16_t>(what);
        break;
      case GgufType::U32:
        value.u = read_scalar<uint32_t>(what);
        break;
      case GgufType::U64:
        value.u = read_scalar<uint64_t>(what);
        break;
      case GgufType::I8:
        value.i = read_scalar<int8_t>(what);
        break;
      case GgufType::I16:
        value.i = read_scalar<int16_t>(what);
        break;
      case GgufType::I32:
        value.i = read_scalar<int32_t>(what);
        break;
      case GgufType::I64:
        value.i = read_scalar<int64_t>(what);
        break;
      case GgufType::F32:
        value.f = read_scalar<float>(what);
        break;
      case GgufType::F64:
        value.f = read_scalar<double>(what);
        break;
      case GgufType::BOOL: {
        const uint8_t raw = read_scalar<uint8_t>(what);
        if (raw > 1) fail("key " + key + ": bool value " + std::to_string(raw) + " is neither 0 nor 1");
        value.u = raw;
        break;
      }
      case GgufType::STRING:
        value.string = read_string(what);
        break;
      case GgufType::ARRAY:
        read_array(value, key, depth);
        break;
    }
    return value;
  }

  void read_array(GgufValue& value, const std::string& key, uint32_t depth) {
    if (depth >= limits_.max_array_depth) fail("key " + key + ": arrays nested too deeply");
    const uint32_t raw_type = read_u32({"array type of key ", key});
    if (!is_valid_type(raw_type)) fail("key " + key + ": unknown array element type " + std::to_string(raw_type));
    value.element_type = GgufType(raw_type);
    const uint64_t count = read_u64({"array length of key ", key});
    if (count > limits_.max_array_items)
      fail("key " + key + ": array length " + std::to_string(count) + " exceeds the limit of " +
           std::to_string(limits_.max_array_items));
    total_array_items_ += count;
    if (total_array_items_ > limits_.max_total_array_items)
      fail("key " + key + ": the arrays of this file hold more than " + std::to_string(limits_.max_total_array_items) +
           " elements in all");
    if (value.element_type == GgufType::ARRAY) {
      nested_array_items_ += count;
      if (nested_array_items_ > limits_.max_nested_array_items)
        fail("key " + key + ": the nested arrays of this file hold more than " +
             std::to_string(limits_.max_nested_array_items) + " arrays in all");
    }
    if (count > remaining() / min_encoded_size(value.element_type))
      fail("truncated: key " + key + " claims " + std::to_string(count) + " array elements but only " +
           std::to_string(remaining()) + " bytes are left");
    const size_t n = size_t(count);
    for (size_t e = 0; e < n; ++e) {
      GgufValue item = read_value(value.element_type, key, depth + 1);
      switch (value.element_type) {
        case GgufType::U8:
        case GgufType::U16:
        case GgufType::U32:
        case GgufType::U64:
        case GgufType::BOOL:
          if (e == 0) value.unsigned_items.reserve(n);
          value.unsigned_items.push_back(item.u);
          break;
        case GgufType::I8:
        case GgufType::I16:
        case GgufType::I32:
        case GgufType::I64:
          if (e == 0) value.signed_items.reserve(n);
          value.signed_items.push_back(item.i);
          break;
        case GgufType::F32:
        case GgufType::F64:
          if (e == 0) value.float_items.reserve(n);
          value.float_items.push_back(item.f);
          break;
        case GgufType::STRING:
          if (e == 0) value.string_items.reserve(n);
          value.string_items.push_back(std::move(item.string));
          break;
        case GgufType::ARRAY:
          value.array_items.push_back(std::move(item));
          break;
      }
    }
  }

  GgufTensor read_tensor_info(uint64_t index, uint64_t alignment) {
    GgufTensor tensor;
    tensor.name = read_string({"name of tensor #", std::to_string(index)});
    const std::string what = "tensor " + tensor.name;
    tensor.n_dims = read_u32({what, " rank"});
    if (tensor.n_dims == 0 || tensor.n_dims > 4)
      fail(what + ": rank " + std::to_string(tensor.n_dims) + " (must be 1 to 4)");
    uint64_t elements = 1;
    for (uint32_t d = 0; d < tensor.n_dims; ++d) {
      const uint64_t dim = read_u64({what, " dimension"});
      if (dim == 0 || dim > uint64_t(limits_.max_dim))
        fail(what + ": dimension " + std::to_string(d) + " is " + std::to_string(dim));
      if (elements > (uint64_t(1) << 62) / dim) fail(what + ": element count overflows");
      elements *= dim;
      tensor.ne[d] = int64_t(dim);
    }
    tensor.n_elements = elements;
    const uint32_t raw_type = read_u32({what, " type"});
    const std::optional<TensorType> type = tensor_type_from_id(raw_type);
    if (!type)
      fail(what + ": unsupported tensor type id " + std::to_string(raw_type) +
           " (phirun reads F32, F16, BF16, Q8_0, Q4_0, Q4_1)");
    tensor.type = *type;
    const std::optional<uint64_t> bytes_per_row = row_bytes(tensor.type, tensor.ne[0]);
    if (!bytes_per_row)
      fail(what + ": row length " + std::to_string(tensor.ne[0]) + " is not a multiple of the " +
           std::string(type_name(tensor.type)) + " block size");
    const uint64_t rows = elements / uint64_t(tensor.ne[0]);
    if (*bytes_per_row != 0 && rows > UINT64_MAX / *bytes_per_row) fail(what + ": byte size overflows");
    tensor.n_bytes = rows * *bytes_per_row;
    tensor.offset = read_u64({what, " offset"});
    if (tensor.offset % alignment != 0)
      fail(what + ": offset " + std::to_string(tensor.offset) + " is not a multiple of the alignment " +
           std::to_string(alignment));
    return tensor;
  }

  const uint8_t* bytes_;
  uint64_t size_;
  const std::string& name_;
  const GgufLimits& limits_;
  uint64_t position_ = 0;
  uint64_t total_array_items_ = 0;
  uint64_t nested_array_items_ = 0;
};

GgufFile GgufFile::parse(const uint8_t* bytes, uint64_t size, const std::string& name, const GgufLimits& limits) {
  GgufFile file;
  GgufParser(bytes, size, name, limits).parse_into(file);
  return file;
}

GgufFile GgufFile::open(const std::string& path, const GgufLimits& limits) {
  auto mapping = std::make_shared<MappedFile>(MappedFile::open(path));
  GgufFile file = parse(mapping->data(), mapping->size(), path, limits);
  file.mapping_ = std::move(mapping);
  return file;
}

}  // namespace phirun
