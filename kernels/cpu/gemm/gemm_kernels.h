// The table of matmul kernels of one instruction-set variant. Each kernel computes, for the
// panels [panel_begin, panel_end) of a packed weight matrix, every activation row:
// y[t][r] = dot(W row r, x[t]) for t < n_rows, y being [n_rows][y_stride].
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm/activations.h"
#include "kernels/cpu/isa.h"
#include "kernels/ops.h"

namespace phirun {

using FloatGemmKernel = void (*)(const MatrixView& packed, const FloatRows& x, int64_t n_rows, float* y,
                                 int64_t y_stride, int64_t panel_begin, int64_t panel_end);
using Int8GemmKernel = void (*)(const MatrixView& packed, const Int8Rows& x, int64_t n_rows, float* y, int64_t y_stride,
                                int64_t panel_begin, int64_t panel_end);
// Quantizes n_rows rows of k (a multiple of 32) into `out` (sized by the caller).
using QuantizeRowsKernel = void (*)(const float* x, int64_t n_rows, int64_t k, int32_t bias, const Int8Rows& out);

// One weight family: its kernel with float activations, and (block types) with int8 ones.
struct FamilyKernels {
  FloatGemmKernel float_gemm = nullptr;
  Int8GemmKernel int8_gemm = nullptr;
  int32_t int8_bias = 0;  // what the packed codes carry on top of the signed value, for Int8Rows
};

struct GemmKernels {
  Isa isa = Isa::Scalar;
  FamilyKernels f32, f16, bf16, q8_0, q4_0, q4_1;
  QuantizeRowsKernel quantize_rows = nullptr;

  const FamilyKernels& family(TensorType type) const {
    switch (type) {
      case TensorType::F32:
        return f32;
      case TensorType::F16:
        return f16;
      case TensorType::BF16:
        return bf16;
      case TensorType::Q8_0:
        return q8_0;
      case TensorType::Q4_0:
        return q4_0;
      case TensorType::Q4_1:
        return q4_1;
    }
    return f32;
  }
};

// The kernels of a SIMD variant (nullptr for Scalar, which runs the reference on the file layout,
// and for variants this build does not contain).
const GemmKernels* gemm_kernels(Isa isa);

}  // namespace phirun
