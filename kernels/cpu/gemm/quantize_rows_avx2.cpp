// Activation quantization (float rows to int8 blocks) for AVX2 + FMA + F16C.
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/avx2.h"

namespace phirun {

QuantizeRowsKernel quantize_rows_avx2() { return quantize_rows<Avx2Simd>; }

}  // namespace phirun
