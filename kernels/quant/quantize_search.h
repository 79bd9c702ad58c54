// Error-minimising quantizers for Q8_0, Q4_0 and Q4_1: each block's scale (and minimum) is chosen
// to minimise the weighted squared error sum_j w_j (x_j - x̂_j)^2, searching candidate scales,
// refitting the scale by least squares and accounting for its rounding to f16. The weights w are
// the importance of each column (activation energy from calibration, or all ones). Deterministic:
// the result depends only on the inputs. The plain rounding of TypeTraits::quantize stays the
// reference that kernels are tested against; these choose better values in the same formats.
#pragma once

#include <cstdint>

#include "kernels/quant/tensor_type.h"

namespace phirun {

// How each value's error is weighted inside its block, on top of the column importance:
// Uniform (plain squared error), Square (x^2: large weights matter more, llama.cpp's default for
// k-quants without an imatrix), SigmaSquare (sigma^2 + x^2, sigma^2 the row's mean square).
enum class ValueWeighting { Uniform, Square, SigmaSquare };

// How many candidate scales a block tries: `steps` on each side of the plain rule's scale (Q4_0:
// for both signs, over half a level; Q4_1: over one level; Q8_0: up to two levels below max-abs).
// More is slower and only slightly better: 2 is within 0.5% of 16 on Gaussian blocks.
struct QuantSearch {
  int steps = 2;
  ValueWeighting weighting = ValueWeighting::Uniform;
  bool plain_rounding = false;  // use TypeTraits::quantize (max-abs rounding) instead: the baseline
};

// Quantizes one row of n values (a multiple of 32 for the block types) into `out`. `importance`
// holds one non-negative weight per value, or is nullptr for equal weights. Float types (F32,
// F16, BF16) are rounded to nearest.
void quantize_row_search(TensorType type, const float* x, const float* importance, void* out, int64_t n,
                         const QuantSearch& search = {});

// Weighted squared error sum_j w_j (x_j - dequantized_j)^2 of one quantized row (w = 1 when
// importance is nullptr), and sum_j w_j x_j^2, for measuring quantizers.
struct QuantError {
  double error = 0.0;
  double energy = 0.0;
};
QuantError quantization_error(TensorType type, const float* x, const float* importance, const void* quantized,
                              int64_t n);

}  // namespace phirun
