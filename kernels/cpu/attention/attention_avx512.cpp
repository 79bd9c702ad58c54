// Fused attention, RMSNorm, SwiGLU and GeGLU for AVX-512 F/BW/VL/DQ (also used by the VNNI variant); this file alone is
// compiled with those flags.
#include "kernels/cpu/attention/fused_attention.h"
#include "kernels/cpu/elementwise/elementwise.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/simd/avx512.h"

namespace phirun {

OpKernels op_kernels_avx512() {
  return {fused_attention<Avx512Simd<false>>, rms_norm_row<Avx512Simd<false>>, swiglu<Avx512Simd<false>>,
          geglu<Avx512Simd<false>>,
          stream_sum<Avx512Simd<false>>};
}

}  // namespace phirun
