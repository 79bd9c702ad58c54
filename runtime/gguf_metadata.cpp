// GGUF metadata values and the typed getters of GgufFile, whose errors name the file and key.
#include <cmath>
#include <stdexcept>

#include "runtime/gguf.h"

namespace phirun {

std::string_view gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::U8:
      return "u8";
    case GgufType::I8:
      return "i8";
    case GgufType::U16:
      return "u16";
    case GgufType::I16:
      return "i16";
    case GgufType::U32:
      return "u32";
    case GgufType::I32:
      return "i32";
    case GgufType::F32:
      return "f32";
    case GgufType::BOOL:
      return "bool";
    case GgufType::STRING:
      return "string";
    case GgufType::ARRAY:
      return "array";
    case GgufType::U64:
      return "u64";
    case GgufType::I64:
      return "i64";
    case GgufType::F64:
      return "f64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::U8:
    case GgufType::U16:
    case GgufType::U32:
    case GgufType::U64:
    case GgufType::I8:
    case GgufType::I16:
    case GgufType::I32:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_signed_integer() const {
  return type == GgufType::I8 || type == GgufType::I16 || type == GgufType::I32 || type == GgufType::I64;
}

uint64_t GgufValue::array_size() const {
  return unsigned_items.size() + signed_items.size() + float_items.size() + string_items.size() + array_items.size();
}

GgufValue GgufValue::of_u32(uint32_t value) {
  GgufValue v;
  v.type = GgufType::U32;
  v.u = value;
  return v;
}
GgufValue GgufValue::of_i32(int32_t value) {
  GgufValue v;
  v.type = GgufType::I32;
  v.i = value;
  return v;
}
GgufValue GgufValue::of_u64(uint64_t value) {
  GgufValue v;
  v.type = GgufType::U64;
  v.u = value;
  return v;
}
GgufValue GgufValue::of_f32(float value) {
  GgufValue v;
  v.type = GgufType::F32;
  v.f = value;
  return v;
}
GgufValue GgufValue::of_bool(bool value) {
  GgufValue v;
  v.type = GgufType::BOOL;
  v.u = value ? 1 : 0;
  return v;
}
GgufValue GgufValue::of_string(std::string value) {
  GgufValue v;
  v.type = GgufType::STRING;
  v.string = std::move(value);
  return v;
}
GgufValue GgufValue::of_strings(std::vector<std::string> values) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.element_type = GgufType::STRING;
  v.string_items = std::move(values);
  return v;
}
GgufValue GgufValue::of_i32s(const std::vector<int32_t>& values) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.element_type = GgufType::I32;
  v.signed_items.assign(values.begin(), values.end());
  return v;
}
GgufValue GgufValue::of_f32s(const std::vector<float>& values) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.element_type = GgufType::F32;
  v.float_items.assign(values.begin(), values.end());
  return v;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const auto& [name, value] : metadata_)
    if (name == key) return &value;
  return nullptr;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  for (const GgufTensor& tensor : tensors_)
    if (tensor.name == name) return &tensor;
  return nullptr;
}

namespace {

[[noreturn]] void wrong_kind(const GgufFile& file, std::string_view key, const GgufValue& value,
                             std::string_view wanted) {
  throw std::runtime_error(file.error_prefix() + "metadata key " + std::string(key) + " is a " +
                           std::string(gguf_type_name(value.type)) + ", expected " + std::string(wanted));
}

}  // namespace

std::optional<uint64_t> GgufFile::find_uint(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (!value->is_integer()) wrong_kind(*this, key, *value, "an integer");
  if (value->is_signed_integer()) {
    if (value->i < 0)
      throw std::runtime_error(error_prefix() + "metadata key " + std::string(key) + " is negative (" +
                               std::to_string(value->i) + ")");
    return uint64_t(value->i);
  }
  return value->u;
}

std::optional<double> GgufFile::find_float(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (value->is_float()) return value->f;
  if (value->is_integer()) return value->is_signed_integer() ? double(value->i) : double(value->u);
  wrong_kind(*this, key, *value, "a number");
}

std::optional<std::string> GgufFile::find_string(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (value->type != GgufType::STRING) wrong_kind(*this, key, *value, "a string");
  return value->string;
}

std::optional<bool> GgufFile::find_bool(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (value->type != GgufType::BOOL) wrong_kind(*this, key, *value, "a bool");
  return value->u != 0;
}

namespace {
[[noreturn]] void missing(const GgufFile& file, std::string_view key) {
  throw std::runtime_error(file.error_prefix() + "required metadata key " + std::string(key) + " is missing");
}
}  // namespace

uint64_t GgufFile::get_uint(std::string_view key) const {
  if (auto value = find_uint(key)) return *value;
  missing(*this, key);
}
double GgufFile::get_float(std::string_view key) const {
  if (auto value = find_float(key)) return *value;
  missing(*this, key);
}
const std::string& GgufFile::get_string(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) missing(*this, key);
  if (value->type != GgufType::STRING) wrong_kind(*this, key, *value, "a string");
  return value->string;
}
bool GgufFile::get_bool(std::string_view key) const {
  if (auto value = find_bool(key)) return *value;
  missing(*this, key);
}

}  // namespace phirun
