// The kernel families of each SIMD variant, each defined in its family's folder in a file of its
// own compiled with the variant's flags (q4_0/q4_0_avx2.cpp, ...), and the scalar references.
#pragma once

#include "kernels/cpu/gemm/gemm_kernels.h"

namespace phirun {

#define PHIRUN_DECLARE_VARIANT(isa)   \
  FamilyKernels f32_kernels_##isa();  \
  FamilyKernels f16_kernels_##isa();  \
  FamilyKernels bf16_kernels_##isa(); \
  FamilyKernels q8_0_kernels_##isa(); \
  FamilyKernels q4_0_kernels_##isa(); \
  FamilyKernels q4_1_kernels_##isa(); \
  QuantizeRowsKernel quantize_rows_##isa();

PHIRUN_DECLARE_VARIANT(avx2)
PHIRUN_DECLARE_VARIANT(avx512)
PHIRUN_DECLARE_VARIANT(avx512vnni)
PHIRUN_DECLARE_VARIANT(neon)
#undef PHIRUN_DECLARE_VARIANT

// Scalar references on the file's own row-major layout.
// Int8 activations: sum over blocks of d_w · d_x · (integer dot of the signed codes), plus for
// Q4_1 m · d_x · Σq; accumulated in float in block order.
float dot_q4_0_int8_ref(const void* row, const Int8Rows& x, int64_t t);
float dot_q4_1_int8_ref(const void* row, const Int8Rows& x, int64_t t);
float dot_q8_0_int8_ref(const void* row, const Int8Rows& x, int64_t t);
float dot_int8_ref(TensorType type, const void* row, const Int8Rows& x, int64_t t);
// Quantizes rows exactly as every variant's quantize_rows must.
void quantize_rows_ref(const float* x, int64_t n_rows, int64_t k, int32_t bias, const Int8Rows& out);

}  // namespace phirun
