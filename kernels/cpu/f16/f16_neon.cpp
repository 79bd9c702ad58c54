// F16 matmul kernels for AArch64 NEON with dotprod; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/neon.h"

namespace phirun {

FamilyKernels f16_kernels_neon() { return float_family_kernels<NeonSimd, TensorType::F16>(); }

}  // namespace phirun
