// The device layer: device discovery, RAII device memory and streams over the CUDA runtime.
#include <utility>

#include "kernels/cuda/check.h"
#include "kernels/cuda/device.h"

namespace phirun {

std::vector<CudaDeviceInfo> cuda_devices(std::string* why_none) {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    // No driver or no device: the runtime reports it as an error; clear it so that later calls
    // do not see it again.
    (void)cudaGetLastError();
    if (why_none)
      *why_none = error == cudaErrorInsufficientDriver ? "no CUDA driver, or one older than this build's CUDA runtime"
                                                       : cudaGetErrorString(error);
    return {};
  }
  if (count == 0 && why_none) *why_none = "no CUDA device";
  std::vector<CudaDeviceInfo> devices;
  for (int index = 0; index < count; ++index) {
    cudaDeviceProp properties{};
    PHIRUN_CUDA_CHECK(cudaGetDeviceProperties(&properties, index));
    devices.push_back({index, properties.name, properties.major, properties.minor,
                       static_cast<uint64_t>(properties.totalGlobalMem), properties.multiProcessorCount});
  }
  return devices;
}

void cuda_set_device(int index) { PHIRUN_CUDA_CHECK(cudaSetDevice(index)); }

DeviceBuffer::DeviceBuffer(size_t bytes) : bytes_(bytes) {
  if (bytes > 0) PHIRUN_CUDA_CHECK(cudaMalloc(&data_, bytes));
}

DeviceBuffer::~DeviceBuffer() {
  if (data_) (void)cudaFree(data_);  // a destructor cannot throw; a failed free leaks nothing new
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) (void)cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::upload(const void* host, size_t bytes) {
  if (bytes > bytes_) throw std::runtime_error("kernels/cuda/device.cu: upload of more bytes than the buffer holds");
  if (bytes > 0) PHIRUN_CUDA_CHECK(cudaMemcpy(data_, host, bytes, cudaMemcpyHostToDevice));
}

void DeviceBuffer::download(void* host, size_t bytes) const {
  if (bytes > bytes_) throw std::runtime_error("kernels/cuda/device.cu: download of more bytes than the buffer holds");
  if (bytes > 0) PHIRUN_CUDA_CHECK(cudaMemcpy(host, data_, bytes, cudaMemcpyDeviceToHost));
}

void DeviceBuffer::reserve(size_t bytes) {
  if (bytes <= bytes_) return;
  *this = DeviceBuffer(bytes);
}

CudaStream::CudaStream() {
  cudaStream_t stream = nullptr;
  PHIRUN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  stream_ = stream;
}

CudaStream::~CudaStream() {
  if (stream_) (void)cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

void CudaStream::synchronize() const { PHIRUN_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_))); }

}  // namespace phirun
