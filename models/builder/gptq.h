// GPTQ (Frantar et al., 2022): quantize a weight matrix column by column and fold each column's
// rounding error into the columns not yet quantized, weighted by the inverse of the activations'
// second-moment matrix H = E[x xᵀ], so the layer's output error E|(W - Ŵ) x|² is what shrinks,
// not each weight's own error. Blocks of 32 columns keep one scale (and minimum) per row, chosen
// by the error-minimising block search on the error-corrected weights when the block begins.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/quant/quantize_search.h"

namespace phirun::builder {

// Quantizes `weights` ([rows][cols], overwritten with the error-corrected values) to `type` (Q8_0,
// Q4_0 or Q4_1) into `out` (rows × row_bytes). `gram` is H, [cols][cols], symmetric. Columns the
// calibration never saw active (H[i][i] = 0) are quantized as they are. Throws std::runtime_error
// when H cannot be factorised even after dampening.
void quantize_gptq(TensorType type, float* weights, int64_t rows, int64_t cols, const float* gram, void* out,
                   const QuantSearch& search);

// H + damp I inverted, then its upper Cholesky factor U (H⁻¹ = Uᵀ U), in double: what the
// column sweep needs. Exposed for tests.
bool inverse_cholesky_upper(const float* gram, int64_t n, double damp_fraction, std::vector<double>& upper);

}  // namespace phirun::builder
