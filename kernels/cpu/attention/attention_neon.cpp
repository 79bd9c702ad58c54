// Fused attention, RMSNorm, SwiGLU and GeGLU for AArch64 NEON with dotprod; this file alone is compiled with those
// flags.
#include "kernels/cpu/attention/fused_attention.h"
#include "kernels/cpu/elementwise/elementwise.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/simd/neon.h"

namespace phirun {

OpKernels op_kernels_neon() {
  return {fused_attention<NeonSimd>, rms_norm_row<NeonSimd>, swiglu<NeonSimd>, geglu<NeonSimd>,
          stream_sum<NeonSimd>};
}

}  // namespace phirun
