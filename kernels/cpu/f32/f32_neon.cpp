// F32 matmul kernels for AArch64 NEON with dotprod; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/neon.h"

namespace phirun {

FamilyKernels f32_kernels_neon() { return float_family_kernels<NeonSimd, TensorType::F32>(); }

}  // namespace phirun
