// Q4_0 matmul kernels for AVX-512 with VNNI; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/block_gemm.h"
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/q4_0/q4_0_format.h"
#include "kernels/cpu/simd/avx512.h"

namespace phirun {

FamilyKernels q4_0_kernels_avx512vnni() { return block_family_kernels<Avx512Simd<true>, Q4_0Format>(); }

}  // namespace phirun
