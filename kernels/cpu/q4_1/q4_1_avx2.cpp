// Q4_1 matmul kernels for AVX2 + FMA + F16C; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/block_gemm.h"
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/q4_1/q4_1_format.h"
#include "kernels/cpu/simd/avx2.h"

namespace phirun {

FamilyKernels q4_1_kernels_avx2() { return block_family_kernels<Avx2Simd, Q4_1Format>(); }

}  // namespace phirun
