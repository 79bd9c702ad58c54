// Shared by the CUDA tests: a fixture that skips without a device, the CPU scalar reference
// (CpuOps with the scalar variant forced), random inputs and quantized weights on both sides.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/isa.h"
#include "kernels/cuda/device.h"
#include "kernels/quant/tensor_type.h"

namespace phirun {

// Why there is no usable device, or "" when there is one (asked once per process).
inline const std::string& cuda_missing_reason() {
  static const std::string reason = [] {
    std::string why;
    return cuda_devices(&why).empty() ? why : std::string();
  }();
  return reason;
}

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_missing_reason().empty()) GTEST_SKIP() << "no CUDA device (" << cuda_missing_reason() << ")";
    cuda_set_device(0);
  }
};

// The reference: CpuOps with the scalar kernels, whatever this CPU could run.
class ScalarReference {
 public:
  ScalarReference() : previous_(active_isa()) {
    force_isa(Isa::Scalar);
    ops_ = std::make_unique<CpuOps>(pool_);
  }
  ~ScalarReference() { force_isa(previous_); }
  CpuOps& ops() { return *ops_; }

 private:
  Isa previous_;
  ThreadPool pool_{2};
  std::unique_ptr<CpuOps> ops_;
};

inline std::vector<float> random_floats(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = normal(rng);
  return values;
}

// A rows x cols matrix of `type`, quantized from random floats by the reference quantizer.
inline std::vector<uint8_t> random_matrix(TensorType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  const TypeTraits& traits = type_traits(type);
  const int64_t row_bytes = cols / traits.block_elements * traits.block_bytes;
  std::vector<uint8_t> bytes(static_cast<size_t>(rows * row_bytes));
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<float> row = random_floats(cols, rng, 0.05f);
    traits.quantize(row.data(), bytes.data() + r * row_bytes, cols);
  }
  return bytes;
}

inline std::string type_label(TensorType type) { return std::string(type_name(type)); }

}  // namespace phirun
