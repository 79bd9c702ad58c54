// The reference matmul on the file's layout. Int8 activations: quantized rows dotted with each
// weight row by the scalar int8 references. Float activations, for every weight type: each weight row is
// dequantized once into a float buffer and reused for all activation rows, so prefill pays the
// dequantization once per weight row, not once per token. Rows are split over the threads.
#include <algorithm>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm/family_variants.h"
#include "kernels/cpu/gemm/packed_layout.h"

namespace phirun {

float dot_f32(const float* a, const float* b, int64_t n) {
  // 32 independent lanes: vectorizable without reassociation, and the same order of operations
  // as TypeTraits::dot, so matmul results equal the scalar reference bit for bit.
  constexpr int kLanes = 32;
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] += a[i + j] * b[i + j];
  for (int64_t j = 0; i + j < n; ++j) lanes[j] += a[i + j] * b[i + j];
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) lanes[j] += lanes[j + width];
  return lanes[0];
}

void CpuOps::matmul_row_major(const MatrixView& weight, const float* x, int64_t n_rows, float* y) {
  const TypeTraits& traits = type_traits(weight.type);
  if (activations_ == ActivationPrecision::Int8 && traits.block_elements == 32) {
    int8_.reserve_rows(n_rows, weight.cols);
    const Int8Rows quantized = int8_.view(weight.cols);
    const int32_t bias = 0;  // the reference dots use the signed codes: no bias to correct
    quantize_rows_ref(x, n_rows, weight.cols, bias, quantized);
    const int64_t row_stride = weight.cols / 32 * traits.block_bytes;
    const auto* bytes = static_cast<const uint8_t*>(weight.data);
    pool_.parallel_for(weight.rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        for (int64_t t = 0; t < n_rows; ++t)
          y[t * weight.rows + r] = dot_int8_ref(weight.type, bytes + r * row_stride, quantized, t);
    });
    return;
  }
  const int64_t row_stride = weight.cols / traits.block_elements * traits.block_bytes;
  const auto* bytes = static_cast<const uint8_t*>(weight.data);
  pool_.parallel_for(weight.rows, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> row;
    row.resize(size_t(weight.cols));
    for (int64_t r = begin; r < end; ++r) {
      const float* w = nullptr;
      if (weight.type == TensorType::F32) {
        w = reinterpret_cast<const float*>(bytes + r * row_stride);
      } else {
        traits.dequantize(bytes + r * row_stride, row.data(), weight.cols);
        w = row.data();
      }
      for (int64_t t = 0; t < n_rows; ++t) y[t * weight.rows + r] = dot_f32(w, x + t * weight.cols, weight.cols);
    }
  });
}

void CpuOps::embed(const MatrixView& table, std::span<const int32_t> ids, float* out) {
  if (table.layout == MatrixLayout::CpuPanels16) {  // a tied table, repacked for the output head
    for (size_t t = 0; t < ids.size(); ++t) unpack_row(table, ids[t], out + int64_t(t) * table.cols);
    return;
  }
  const TypeTraits& traits = type_traits(table.type);
  const int64_t row_stride = table.cols / traits.block_elements * traits.block_bytes;
  const auto* bytes = static_cast<const uint8_t*>(table.data);
  for (size_t t = 0; t < ids.size(); ++t)
    traits.dequantize(bytes + int64_t(ids[t]) * row_stride, out + int64_t(t) * table.cols, table.cols);
}

}  // namespace phirun
