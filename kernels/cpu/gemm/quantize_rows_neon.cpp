// Activation quantization (float rows to int8 blocks) for AArch64 NEON with dotprod.
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/neon.h"

namespace phirun {

QuantizeRowsKernel quantize_rows_neon() { return quantize_rows<NeonSimd>; }

}  // namespace phirun
