// GGUF v3 writer. The file goes to a temporary name beside the target and is renamed into place
// only after every byte is written and flushed, so readers never see a partial model file.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "runtime/gguf.h"

namespace phirun {

namespace {

// Accumulates into memory (tests) ...
struct MemorySink {
  std::vector<uint8_t>& out;
  // resize + memcpy rather than insert: GCC 12's -Wstringop-overflow misfires on the inlined
  // vector::insert of the 4-byte magic into an empty vector.
  void write(const void* data, uint64_t n) {
    if (n == 0) return;
    const size_t old_size = out.size();
    out.resize(old_size + size_t(n));
    std::memcpy(out.data() + old_size, data, size_t(n));
  }
  uint64_t position() const { return out.size(); }
};

// ... or streams to a file descriptor through a buffer.
struct FileSink {
  int fd;
  const std::string& path;
  std::vector<uint8_t> buffer;
  uint64_t written = 0;

  void write(const void* data, uint64_t n) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    if (buffer.size() + n > (1u << 20)) flush();
    if (n > (1u << 20)) {
      write_all(bytes, n);
    } else {
      buffer.insert(buffer.end(), bytes, bytes + n);
    }
    written += n;
  }
  uint64_t position() const { return written; }
  void flush() {
    write_all(buffer.data(), buffer.size());
    buffer.clear();
  }
  void write_all(const uint8_t* bytes, uint64_t n) {
    while (n > 0) {
      const ssize_t done = ::write(fd, bytes, size_t(std::min<uint64_t>(n, 1u << 30)));
      if (done < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(path + ": write failed: " + std::strerror(errno));
      }
      bytes += done;
      n -= uint64_t(done);
    }
  }
};

template <typename Sink, typename T>
void put(Sink& sink, T value) {
  sink.write(&value, sizeof value);
}

template <typename Sink>
void put_string(Sink& sink, const std::string& text) {
  put<Sink, uint64_t>(sink, text.size());
  sink.write(text.data(), text.size());
}

template <typename Sink>
void put_scalar(Sink& sink, GgufType type, const GgufValue& value) {
  switch (type) {
    case GgufType::U8:
      put<Sink, uint8_t>(sink, uint8_t(value.u));
      break;
    case GgufType::U16:
      put<Sink, uint16_t>(sink, uint16_t(value.u));
      break;
    case GgufType::U32:
      put<Sink, uint32_t>(sink, uint32_t(value.u));
      break;
    case GgufType::U64:
      put<Sink, uint64_t>(sink, value.u);
      break;
    case GgufType::I8:
      put<Sink, int8_t>(sink, int8_t(value.i));
      break;
    case GgufType::I16:
      put<Sink, int16_t>(sink, int16_t(value.i));
      break;
    case GgufType::I32:
      put<Sink, int32_t>(sink, int32_t(value.i));
      break;
    case GgufType::I64:
      put<Sink, int64_t>(sink, value.i);
      break;
    case GgufType::F32:
      put<Sink, float>(sink, float(value.f));
      break;
    case GgufType::F64:
      put<Sink, double>(sink, value.f);
      break;
    case GgufType::BOOL:
      put<Sink, uint8_t>(sink, value.u ? 1 : 0);
      break;
    case GgufType::STRING:
      put_string(sink, value.string);
      break;
    case GgufType::ARRAY:
      break;  // handled by put_value
  }
}

template <typename Sink>
void put_value(Sink& sink, const GgufValue& value) {
  if (value.type != GgufType::ARRAY) {
    put_scalar(sink, value.type, value);
    return;
  }
  put<Sink, uint32_t>(sink, uint32_t(value.element_type));
  put<Sink, uint64_t>(sink, value.array_size());
  GgufValue item;
  for (uint64_t u : value.unsigned_items) {
    item.u = u;
    put_scalar(sink, value.element_type, item);
  }
  for (int64_t i : value.signed_items) {
    item.i = i;
    put_scalar(sink, value.element_type, item);
  }
  for (double f : value.float_items) {
    item.f = f;
    put_scalar(sink, value.element_type, item);
  }
  for (const std::string& s : value.string_items) put_string(sink, s);
  for (const GgufValue& nested : value.array_items) put_value(sink, nested);
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

}  // namespace

GgufWriter::GgufWriter(uint64_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw std::invalid_argument("GGUF alignment must be a power of two");
  if (alignment != 32) set("general.alignment", GgufValue::of_u32(uint32_t(alignment)));
}

void GgufWriter::set(std::string key, GgufValue value) {
  // The alignment key decides where tensor data goes: keep the writer's layout in step with it.
  if (key == "general.alignment") {
    if (value.type != GgufType::U32 || value.u == 0 || (value.u & (value.u - 1)) != 0)
      throw std::invalid_argument("general.alignment must be a u32 power of two");
    alignment_ = value.u;
  }
  for (auto& [name, existing] : metadata_) {
    if (name == key) {
      existing = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::check_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& dims,
                              uint64_t n_bytes) const {
  if (dims.empty() || dims.size() > 4) throw std::invalid_argument("tensor " + name + ": rank must be 1 to 4");
  const std::optional<uint64_t> bytes_per_row = row_bytes(type, dims[0]);
  if (!bytes_per_row) throw std::invalid_argument("tensor " + name + ": row length is not a whole number of blocks");
  uint64_t rows = 1;
  for (size_t d = 1; d < dims.size(); ++d) rows *= uint64_t(dims[d]);
  if (rows * *bytes_per_row != n_bytes)
    throw std::invalid_argument("tensor " + name + ": " + std::to_string(n_bytes) +
                                " bytes given, its type and shape need " + std::to_string(rows * *bytes_per_row));
}

void GgufWriter::add_tensor(std::string name, TensorType type, std::vector<int64_t> dims, const void* data,
                            uint64_t n_bytes) {
  check_tensor(name, type, dims, n_bytes);
  tensors_.push_back({std::move(name), type, std::move(dims), data, n_bytes, nullptr});
}

void GgufWriter::add_tensor(std::string name, TensorType type, std::vector<int64_t> dims, uint64_t n_bytes,
                            TensorProducer produce) {
  check_tensor(name, type, dims, n_bytes);
  if (!produce) throw std::invalid_argument("tensor " + name + ": no producer given");
  tensors_.push_back({std::move(name), type, std::move(dims), nullptr, n_bytes, std::move(produce)});
}

template <typename Sink>
void GgufWriter::emit(Sink& sink) const {
  sink.write("GGUF", 4);
  put<Sink, uint32_t>(sink, 3);
  put<Sink, uint64_t>(sink, tensors_.size());
  put<Sink, uint64_t>(sink, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    put_string(sink, key);
    put<Sink, uint32_t>(sink, uint32_t(value.type));
    put_value(sink, value);
  }
  uint64_t offset = 0;
  for (const PendingTensor& tensor : tensors_) {
    put_string(sink, tensor.name);
    put<Sink, uint32_t>(sink, uint32_t(tensor.dims.size()));
    for (int64_t dim : tensor.dims) put<Sink, uint64_t>(sink, uint64_t(dim));
    put<Sink, uint32_t>(sink, uint32_t(tensor.type));
    put<Sink, uint64_t>(sink, offset);
    offset = align_up(offset + tensor.n_bytes, alignment_);
  }
  static const uint8_t zeros[256] = {};
  auto pad_to_alignment = [&] {
    const uint64_t padding = align_up(sink.position(), alignment_) - sink.position();
    for (uint64_t left = padding; left > 0;) {
      const uint64_t n = std::min<uint64_t>(left, sizeof zeros);
      sink.write(zeros, n);
      left -= n;
    }
  };
  if (!tensors_.empty()) pad_to_alignment();
  for (const PendingTensor& tensor : tensors_) {
    if (tensor.produce) {
      uint64_t emitted = 0;
      tensor.produce([&](const void* bytes, uint64_t n) {
        if (n > tensor.n_bytes - emitted)
          throw std::logic_error("tensor " + tensor.name + ": producer emitted more than its " +
                                 std::to_string(tensor.n_bytes) + " bytes");
        sink.write(bytes, n);
        emitted += n;
      });
      if (emitted != tensor.n_bytes)
        throw std::logic_error("tensor " + tensor.name + ": producer emitted " + std::to_string(emitted) + " of " +
                               std::to_string(tensor.n_bytes) + " bytes");
    } else {
      sink.write(tensor.data, tensor.n_bytes);
    }
    pad_to_alignment();  // after the last one too: llama.cpp reads a padded data section
  }
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> bytes;
  MemorySink sink{bytes};
  emit(sink);
  return bytes;
}

void GgufWriter::write(const std::string& path) const {
  std::random_device entropy;
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(entropy());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot create " + temporary + ": " + std::strerror(errno));
  bool closed = false;
  try {
    FileSink sink{fd, path, {}};
    emit(sink);
    sink.flush();
    if (::fsync(fd) != 0) throw std::runtime_error(path + ": fsync failed: " + std::strerror(errno));
    closed = true;
    if (::close(fd) != 0) throw std::runtime_error(path + ": close failed: " + std::strerror(errno));
  } catch (...) {
    if (!closed) ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error(path + ": cannot rename the finished file into place: " + std::strerror(error));
  }
}

}  // namespace phirun
