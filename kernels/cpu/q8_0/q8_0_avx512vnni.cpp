// Q8_0 matmul kernels for AVX-512 with VNNI; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/block_gemm.h"
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/q8_0/q8_0_format.h"
#include "kernels/cpu/simd/avx512.h"

namespace phirun {

FamilyKernels q8_0_kernels_avx512vnni() { return block_family_kernels<Avx512Simd<true>, Q8_0Format>(); }

}  // namespace phirun
