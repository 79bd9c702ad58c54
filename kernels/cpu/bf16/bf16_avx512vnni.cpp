// BF16 matmul kernels for AVX-512 with VNNI; this file alone is compiled with those flags.
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/float_gemm.h"
#include "kernels/cpu/simd/avx512.h"

namespace phirun {

FamilyKernels bf16_kernels_avx512vnni() { return float_family_kernels<Avx512Simd<true>, TensorType::BF16>(); }

}  // namespace phirun
