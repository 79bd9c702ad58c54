// The CUDA device layer seen from plain C++: which devices exist, device memory as RAII buffers,
// streams. Nothing here needs CUDA headers, so host code compiled without nvcc can use it.
// Every failing CUDA call throws std::runtime_error("kernels/cuda/FILE:LINE: call: message").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace phirun {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;  // compute capability, e.g. 9.0 for an H100
  uint64_t memory_bytes = 0;
  int multiprocessors = 0;
};

// The CUDA devices of this machine; empty when there are none or no driver to ask (never throws:
// a machine without a GPU is an ordinary case). `why_none` receives the runtime's reason.
std::vector<CudaDeviceInfo> cuda_devices(std::string* why_none = nullptr);

// Makes `index` the current device of the calling thread; throws when there is no such device.
void cuda_set_device(int index);

// An owned allocation of device memory; movable, not copyable. Sizes are in bytes.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }

  // Synchronous copies of `bytes` (at most bytes()) from and to host memory, on the legacy
  // default stream: they do not wait for work queued on a CudaStream (non-blocking), so
  // synchronize that stream first.
  void upload(const void* host, size_t bytes);
  void download(void* host, size_t bytes) const;
  // Grows to at least `bytes` (contents not kept); never shrinks.
  void reserve(size_t bytes);

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// A device buffer holding a copy of a host vector.
template <typename T>
DeviceBuffer to_device(const std::vector<T>& host) {
  DeviceBuffer buffer(host.size() * sizeof(T));
  buffer.upload(host.data(), host.size() * sizeof(T));
  return buffer;
}

template <typename T>
std::vector<T> to_host(const DeviceBuffer& buffer, size_t count) {
  std::vector<T> host(count);
  buffer.download(host.data(), count * sizeof(T));
  return host;
}

// An owned, non-blocking CUDA stream. handle() is the cudaStream_t, opaque to plain C++; kernels
// take it as `void* stream` (nullptr: the default stream).
class CudaStream {
 public:
  CudaStream();
  ~CudaStream();
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  void* handle() const { return stream_; }
  // Waits for the work queued so far; throws the first error a kernel in it raised.
  void synchronize() const;

 private:
  void* stream_ = nullptr;
};

}  // namespace phirun
