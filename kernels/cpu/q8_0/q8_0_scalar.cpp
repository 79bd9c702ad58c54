// Q8_0 scalar reference with int8 activations (float activations: kernels/quant's TypeTraits).
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"

namespace phirun {

float dot_q8_0_int8_ref(const void* row, const Int8Rows& x, int64_t t) {
  const auto* blocks = static_cast<const block_q8_0*>(row);
  const int64_t n = x.k / 32;
  const int8_t* q = x.q + t * x.k;
  float acc = 0.0f;
  for (int64_t b = 0; b < n; ++b) {
    int32_t dot = 0;
    for (int j = 0; j < 32; ++j) dot += blocks[b].qs[j] * q[32 * b + j];
    acc += float(dot) * (fp16_to_fp32(blocks[b].d) * x.scale[t * n + b]);
  }
  return acc;
}

}  // namespace phirun
