// The device layer: discovery never throws, failures become one std::runtime_error naming the
// source line and the CUDA call, bad shapes are refused before anything reaches the device.
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_kernels.h"
#include "tests/cuda/cuda_test.h"

namespace phirun {
namespace {

TEST(CudaDevice, DiscoveryDescribesDevicesOrSaysWhyNone) {
  std::string why_none;
  const std::vector<CudaDeviceInfo> devices = cuda_devices(&why_none);
  if (devices.empty()) {
    EXPECT_FALSE(why_none.empty());
  }
  for (const CudaDeviceInfo& device : devices) {
    EXPECT_FALSE(device.name.empty());
    EXPECT_GE(device.compute_major, 1);
    EXPECT_GT(device.memory_bytes, 0u);
    EXPECT_GT(device.multiprocessors, 0);
  }
}

// Without a device the allocation itself fails: the error names the file, line and call.
// With one, the buffer round-trips its bytes.
TEST(CudaDevice, BufferRoundTripsOrFailsWithTheCall) {
  const std::vector<int32_t> values = {1, -2, 3, 1 << 30, -7};
  if (!cuda_missing_reason().empty()) {
    try {
      DeviceBuffer buffer(64);
      FAIL() << "cudaMalloc succeeded without a device";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("kernels/cuda/device.cu:"), std::string::npos) << message;
      EXPECT_NE(message.find("cudaMalloc"), std::string::npos) << message;
    }
    return;
  }
  DeviceBuffer buffer = to_device(values);
  EXPECT_EQ(to_host<int32_t>(buffer, values.size()), values);
  EXPECT_THROW(buffer.upload(values.data(), buffer.bytes() + 1), std::runtime_error);
  DeviceBuffer moved = std::move(buffer);
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(to_host<int32_t>(moved, values.size()), values);
}

// Shapes are checked on the host, before any CUDA call: these run without a device too.
TEST(CudaDevice, BadShapesAreRefusedWithTheProblem) {
  alignas(16) static uint8_t weights[4096];
  alignas(16) static float x[64];
  float y[4];
  auto message_of = [&](const MatrixView& weight, const float* activations) {
    try {
      cuda_gemv(weight, activations, y, nullptr);
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message_of({TensorType::Q4_0, 2, 33, weights}, x).find("whole number of 32-weight blocks"),
            std::string::npos);
  EXPECT_NE(message_of({TensorType::F16, 2, 32, weights + 2}, x).find("16-byte aligned"), std::string::npos);
  EXPECT_NE(message_of({TensorType::F16, 2, 32, weights}, x + 1).find("activations must be 16-byte aligned"),
            std::string::npos);
  EXPECT_NE(message_of({TensorType::F16, 0, 32, weights}, x).find("empty matrix"), std::string::npos);
  EXPECT_NE(message_of({TensorType::F16, 2, 32, weights, MatrixLayout::CpuPanels16}, x).find("row-major"),
            std::string::npos);
  EXPECT_NE(message_of({static_cast<TensorType>(12), 2, 256, weights}, x).find("has no CUDA kernel"),
            std::string::npos);
  RopeParams odd;
  odd.rotary_dims = 7;
  EXPECT_THROW(cuda_rope(x, 1, 1, 8, 0, odd, nullptr), std::runtime_error);
}

}  // namespace
}  // namespace phirun
