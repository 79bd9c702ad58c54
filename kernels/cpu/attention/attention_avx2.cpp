// Fused attention, RMSNorm, SwiGLU and GeGLU for AVX2 + FMA + F16C; this file alone is compiled with those flags.
#include "kernels/cpu/attention/fused_attention.h"
#include "kernels/cpu/elementwise/elementwise.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/simd/avx2.h"

namespace phirun {

OpKernels op_kernels_avx2() {
  return {fused_attention<Avx2Simd>, rms_norm_row<Avx2Simd>, swiglu<Avx2Simd>, geglu<Avx2Simd>,
          stream_sum<Avx2Simd>};
}

}  // namespace phirun
