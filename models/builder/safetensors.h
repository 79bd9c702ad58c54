// Safetensors checkpoints (Hugging Face's weight format), memory-mapped and read tensor by tensor:
// a JSON header of names, dtypes, shapes and byte ranges, then the raw data. Every range is checked
// against the file and against the others before any tensor is used.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/mapped_file.h"

namespace phirun::builder {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;           // as the header spells it: "F32", "BF16", "I64", ...
  std::vector<int64_t> shape;  // outermost first, as PyTorch writes it
  uint64_t n_elements = 0;
  const uint8_t* data = nullptr;  // inside the mapping
  uint64_t n_bytes = 0;
  uint64_t file_offset = 0;  // where data starts in its file
  int shard = 0;             // which file of the checkpoint holds it

  // Elements per row: the product of every dimension but the first (1-D: the whole tensor).
  int64_t row_length() const;
  int64_t n_rows() const { return row_length() == 0 ? 0 : int64_t(n_elements) / row_length(); }
};

class SafetensorsFile {
 public:
  // Maps and validates one .safetensors file. Throws std::runtime_error("PATH: problem") for a
  // header that is not JSON, too large, or whose byte ranges run past the file, overlap, or do not
  // match their dtype and shape.
  // `shard` is recorded in every tensor, for checkpoints of several files.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path, int shard = 0);

  const std::string& path() const { return mapping_.path(); }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const MappedFile& mapping() const { return mapping_; }
  uint64_t size() const { return mapping_.size(); }

 private:
  MappedFile mapping_;
  std::vector<SafetensorsTensor> tensors_;
};

// Every shard of a checkpoint folder: model.safetensors, or the files model.safetensors.index.json
// names, or (without an index) every *.safetensors in the folder.
class Checkpoint {
 public:
  static Checkpoint open_folder(const std::string& folder);

  // nullptr when absent.
  const SafetensorsTensor* find(const std::string& name) const;
  // Throws "PATH: tensor NAME is missing" when absent.
  const SafetensorsTensor& get(const std::string& name) const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }
  std::vector<std::string> names() const;
  uint64_t total_bytes() const;
  const std::string& folder() const { return folder_; }

  // Rows [first, first + count) of `tensor` as floats (F32, F16 or BF16 in the file; any other
  // dtype is an error naming the tensor). Thread-safe.
  void read_rows(const SafetensorsTensor& tensor, int64_t first, int64_t count, float* out) const;
  // Drops the tensor's pages from resident memory once it has been read.
  void release(const SafetensorsTensor& tensor) const;

 private:
  std::string folder_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, const SafetensorsTensor*, std::less<>> by_name_;
};

// Bytes per element of a safetensors dtype, 0 when the dtype is unknown.
int safetensors_dtype_size(const std::string& dtype);

}  // namespace phirun::builder
