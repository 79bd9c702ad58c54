// F32 matmul kernels for AVX2 + FMA + F16C; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/avx2.h"

namespace phirun {

FamilyKernels f32_kernels_avx2() { return float_family_kernels<Avx2Simd, TensorType::F32>(); }

}  // namespace phirun
