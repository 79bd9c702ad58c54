// Q4_1 matmul kernels for AArch64 NEON with dotprod; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/block_gemm.h"
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/q4_1/q4_1_format.h"
#include "kernels/cpu/simd/neon.h"

namespace phirun {

FamilyKernels q4_1_kernels_neon() { return block_family_kernels<NeonSimd, Q4_1Format>(); }

}  // namespace phirun
