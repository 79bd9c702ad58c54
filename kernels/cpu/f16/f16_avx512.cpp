// F16 matmul kernels for AVX-512 F/BW/VL/DQ (no VNNI); this file alone is compiled with those flags.
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/avx512.h"

namespace phirun {

FamilyKernels f16_kernels_avx512() { return float_family_kernels<Avx512Simd<false>, TensorType::F16>(); }

}  // namespace phirun
