// Q8_0 matmul kernels for AArch64 NEON with dotprod; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/block_gemm.h"
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/q8_0/q8_0_format.h"
#include "kernels/cpu/simd/neon.h"

namespace phirun {

FamilyKernels q8_0_kernels_neon() { return block_family_kernels<NeonSimd, Q8_0Format>(); }

}  // namespace phirun
