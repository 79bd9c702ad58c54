// Safetensors reader. Layout: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "BF16", "shape": [rows, cols], "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the data section that the offsets index. Nothing is trusted before it is checked.
#include "models/builder/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>

#include "kernels/quant/half.h"

namespace phirun::builder {

namespace {

// The safetensors specification caps the header at 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

uint64_t checked_element_count(const std::string& path, const std::string& name, const std::vector<int64_t>& shape) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) fail(path, "tensor " + name + " has a negative dimension");
    if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 8 / uint64_t(dim))
      fail(path, "tensor " + name + " has a shape too large to address");
    count *= uint64_t(dim);
  }
  return count;
}

SafetensorsTensor parse_entry(const std::string& path, const std::string& name, const nlohmann::json& entry) {
  if (!entry.is_object()) fail(path, "header entry " + name + " is not an object");
  const auto dtype = entry.find("dtype");
  const auto shape = entry.find("shape");
  const auto offsets = entry.find("data_offsets");
  if (dtype == entry.end() || !dtype->is_string()) fail(path, "tensor " + name + " has no dtype string");
  if (shape == entry.end() || !shape->is_array()) fail(path, "tensor " + name + " has no shape array");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2)
    fail(path, "tensor " + name + " has no data_offsets [begin, end]");
  SafetensorsTensor tensor;
  tensor.name = name;
  tensor.dtype = dtype->get<std::string>();
  if (shape->size() > 8) fail(path, "tensor " + name + " has more than 8 dimensions");
  for (const auto& dim : *shape) {
    if (!dim.is_number_unsigned()) fail(path, "tensor " + name + " has a shape entry that is not a size");
    if (dim.get<uint64_t>() > uint64_t(1) << 40) fail(path, "tensor " + name + " has a dimension too large");
    tensor.shape.push_back(int64_t(dim.get<uint64_t>()));
  }
  for (const auto& offset : *offsets)
    if (!offset.is_number_unsigned()) fail(path, "tensor " + name + " has a data offset that is not a size");
  const uint64_t begin = (*offsets)[0].get<uint64_t>(), end = (*offsets)[1].get<uint64_t>();
  if (end < begin) fail(path, "tensor " + name + " ends before it begins");
  tensor.n_elements = checked_element_count(path, name, tensor.shape);
  const int element_bytes = safetensors_dtype_size(tensor.dtype);
  if (element_bytes == 0) fail(path, "tensor " + name + " has unknown dtype '" + tensor.dtype + "'");
  if (end - begin != tensor.n_elements * uint64_t(element_bytes))
    fail(path, "tensor " + name + " spans " + std::to_string(end - begin) + " bytes but its dtype and shape need " +
                   std::to_string(tensor.n_elements * uint64_t(element_bytes)));
  tensor.file_offset = begin;  // relative for now; made absolute once the header length is known
  tensor.n_bytes = end - begin;
  return tensor;
}

}  // namespace

int safetensors_dtype_size(const std::string& dtype) {
  static const std::pair<const char*, int> kSizes[] = {
      {"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4},  {"U32", 4},     {"F16", 2},    {"BF16", 2},
      {"I16", 2}, {"U16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (const auto& [name, size] : kSizes)
    if (dtype == name) return size;
  return 0;
}

int64_t SafetensorsTensor::row_length() const {
  if (shape.empty()) return 1;
  if (shape.size() == 1) return shape[0];
  int64_t length = 1;
  for (size_t d = 1; d < shape.size(); ++d) length *= shape[d];
  return length;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path, int shard) {
  auto file = std::make_unique<SafetensorsFile>();
  file->mapping_ = MappedFile::open(path);
  const uint64_t size = file->mapping_.size();
  if (size < 8) fail(path, "too short to be a safetensors file (" + std::to_string(size) + " bytes)");
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, file->mapping_.data(), 8);
  if (header_bytes > kMaxHeaderBytes) fail(path, "header length " + std::to_string(header_bytes) + " exceeds 100 MB");
  if (header_bytes > size - 8)
    fail(path, "header length " + std::to_string(header_bytes) + " runs past the end of the file");
  const auto* header_begin = reinterpret_cast<const char*>(file->mapping_.data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_bytes);
  } catch (const nlohmann::json::exception& error) {
    fail(path, std::string("header is not valid JSON: ") + error.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  const uint64_t data_start = 8 + header_bytes;
  const uint64_t data_bytes = size - data_start;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    SafetensorsTensor tensor = parse_entry(path, name, entry);
    if (tensor.file_offset + tensor.n_bytes > data_bytes)
      fail(path, "tensor " + name + " runs past the end of the file (ends at byte " +
                     std::to_string(data_start + tensor.file_offset + tensor.n_bytes) + " of " + std::to_string(size) +
                     ")");
    tensor.file_offset += data_start;
    tensor.data = file->mapping_.data() + tensor.file_offset;
    tensor.shard = shard;
    file->tensors_.push_back(std::move(tensor));
  }
  // No two tensors may share bytes: a hostile file could otherwise alias one tensor onto another.
  std::vector<const SafetensorsTensor*> by_offset;
  for (const auto& tensor : file->tensors_) by_offset.push_back(&tensor);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto* a, const auto* b) { return a->file_offset < b->file_offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* previous = by_offset[i - 1];
    if (previous->n_bytes > 0 && by_offset[i]->n_bytes > 0 &&
        by_offset[i]->file_offset < previous->file_offset + previous->n_bytes)
      fail(path, "tensors " + previous->name + " and " + by_offset[i]->name + " overlap");
  }
  return file;
}

Checkpoint Checkpoint::open_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  Checkpoint checkpoint;
  checkpoint.folder_ = folder;
  std::vector<std::string> files;
  const fs::path index_path = fs::path(folder) / "model.safetensors.index.json";
  if (fs::exists(index_path)) {
    std::ifstream in(index_path);
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& error) {
      fail(index_path.string(), std::string("not valid JSON: ") + error.what());
    }
    const auto weight_map = index.find("weight_map");
    if (!index.is_object() || weight_map == index.end() || !weight_map->is_object())
      fail(index_path.string(), "has no weight_map object");
    std::set<std::string> names;
    for (const auto& [tensor, file] : weight_map->items()) {
      if (!file.is_string()) fail(index_path.string(), "weight_map entry " + tensor + " is not a file name");
      const std::string name = file.get<std::string>();
      // Shards live beside the index: a path that leaves the folder is refused.
      if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        fail(index_path.string(), "weight_map names a file outside the folder: '" + name + "'");
      names.insert(name);
    }
    files.assign(names.begin(), names.end());
  } else if (fs::exists(fs::path(folder) / "model.safetensors")) {
    files.push_back("model.safetensors");
  } else {
    for (const auto& entry : fs::directory_iterator(folder))
      if (entry.path().extension() == ".safetensors") files.push_back(entry.path().filename().string());
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) fail(folder, "no model.safetensors, model.safetensors.index.json or *.safetensors file");

  for (const std::string& name : files) {
    const int shard = int(checkpoint.shards_.size());
    checkpoint.shards_.push_back(SafetensorsFile::open((fs::path(folder) / name).string(), shard));
    for (const SafetensorsTensor& tensor : checkpoint.shards_.back()->tensors()) {
      if (!checkpoint.by_name_.emplace(tensor.name, &tensor).second)
        fail(checkpoint.shards_.back()->path(), "tensor " + tensor.name + " appears in two shards");
    }
  }
  return checkpoint;
}

const SafetensorsTensor* Checkpoint::find(const std::string& name) const {
  const auto found = by_name_.find(name);
  return found == by_name_.end() ? nullptr : found->second;
}

const SafetensorsTensor& Checkpoint::get(const std::string& name) const {
  const SafetensorsTensor* tensor = find(name);
  if (!tensor) fail(folder_, "tensor " + name + " is missing from the checkpoint");
  return *tensor;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : by_name_) names.push_back(name);
  return names;
}

uint64_t Checkpoint::total_bytes() const {
  uint64_t total = 0;
  for (const auto& shard : shards_) total += shard->size();
  return total;
}

void Checkpoint::read_rows(const SafetensorsTensor& tensor, int64_t first, int64_t count, float* out) const {
  const int64_t row = tensor.row_length();
  if (first < 0 || count < 0 || first + count > tensor.n_rows())
    throw std::logic_error("read_rows: rows out of range for " + tensor.name);
  const uint64_t n = uint64_t(count * row);
  const uint64_t start = uint64_t(first * row);
  if (tensor.dtype == "F32") {
    std::memcpy(out, tensor.data + start * 4, n * 4);
  } else if (tensor.dtype == "F16" || tensor.dtype == "BF16") {
    const uint8_t* bytes = tensor.data + start * 2;
    const bool is_bf16 = tensor.dtype == "BF16";
    for (uint64_t i = 0; i < n; ++i) {
      uint16_t half;
      std::memcpy(&half, bytes + 2 * i, 2);  // the data section need not be 2-byte aligned
      out[i] = is_bf16 ? bf16_to_fp32(half) : fp16_to_fp32(half);
    }
  } else {
    fail(shards_[size_t(tensor.shard)]->path(),
         "tensor " + tensor.name + " has dtype " + tensor.dtype + ": phirun builds from F32, F16 or BF16 weights");
  }
}

void Checkpoint::release(const SafetensorsTensor& tensor) const {
  shards_[size_t(tensor.shard)]->mapping().release(tensor.file_offset, tensor.n_bytes);
}

}  // namespace phirun::builder
