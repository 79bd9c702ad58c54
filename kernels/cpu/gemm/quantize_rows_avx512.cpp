// Activation quantization (float rows to int8 blocks) for AVX-512 F/BW/VL/DQ (no VNNI).
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/avx512.h"

namespace phirun {

QuantizeRowsKernel quantize_rows_avx512() { return quantize_rows<Avx512Simd<false>>; }

}  // namespace phirun
