// Matmul dispatch: weights repacked at load run on the active SIMD variant's panel kernels,
// panels split evenly over the threads (each output is computed by one thread with the same
// code whatever the split, so results do not depend on the thread count); row-major weights
// run on the reference path.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm/packed_layout.h"

namespace phirun {

CpuOps::CpuOps(ThreadPool& pool, ActivationPrecision activations)
    : pool_(pool),
      activations_(activations),
      kernels_(gemm_kernels(active_isa())),
      op_kernels_(op_kernels(active_isa())) {}

MatrixView cpu_prepare_weight(const MatrixView& weight, WeightBuffer& storage) {
  if (weight.layout != MatrixLayout::RowMajor || !gemm_kernels(active_isa())) return weight;
  if (is_block_type(weight.type) && weight.cols % 32 != 0) return weight;
  const auto bytes = size_t(packed_matrix_bytes(weight.type, weight.rows, weight.cols));
  storage.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
  if (!storage)
    throw std::runtime_error("out of memory repacking a weight matrix of " + std::to_string(bytes) + " bytes");
  pack_panels(weight, storage.get());
  MatrixView packed = weight;
  packed.data = storage.get();
  packed.layout = MatrixLayout::CpuPanels16;
  return packed;
}

MatrixView CpuOps::prepare_weight(const MatrixView& weight, WeightBuffer& storage) {
  return cpu_prepare_weight(weight, storage);
}

void CpuOps::matmul(const MatrixView& weight, const float* x, int64_t n_rows, float* y) {
  if (weight.layout == MatrixLayout::RowMajor) return matmul_row_major(weight, x, n_rows, y);
  if (!kernels_)
    throw std::runtime_error(
        "matmul: the weights were repacked for a SIMD kernel variant, but the scalar one is active");
  const FamilyKernels& family = kernels_->family(weight.type);
  const int64_t panels = panel_count(weight.rows);
  if (activations_ == ActivationPrecision::Int8 && family.int8_gemm) {
    int8_.reserve_rows(n_rows, weight.cols);
    const Int8Rows quantized = int8_.view(weight.cols);
    const QuantizeRowsKernel quantize = kernels_->quantize_rows;
    if (n_rows < 4) {
      quantize(x, n_rows, weight.cols, family.int8_bias, quantized);
    } else {
      pool_.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
        const int64_t blocks = weight.cols / 32;
        const Int8Rows part{quantized.q + begin * weight.cols, quantized.scale + begin * blocks,
                            quantized.offset + begin * blocks, quantized.scaled_sum + begin * blocks, weight.cols};
        quantize(x + begin * weight.cols, end - begin, weight.cols, family.int8_bias, part);
      });
    }
    pool_.parallel_for(panels, [&](int64_t begin, int64_t end) {
      family.int8_gemm(weight, quantized, n_rows, y, weight.rows, begin, end);
    });
    return;
  }
  FloatRows rows{x, nullptr, weight.cols};
  if (is_block_type(weight.type)) {
    // Block sums let the kernels apply the weights' offset once per block.
    const int64_t blocks = weight.cols / 32;
    if (block_sums_.size() < size_t(n_rows * blocks)) block_sums_.resize(size_t(n_rows * blocks));
    for (int64_t i = 0; i < n_rows * blocks; ++i) {
      float sum = 0.0f;
      for (int j = 0; j < 32; ++j) sum += x[32 * i + j];
      block_sums_[size_t(i)] = sum;
    }
    rows.block_sums = block_sums_.data();
  }
  pool_.parallel_for(
      panels, [&](int64_t begin, int64_t end) { family.float_gemm(weight, rows, n_rows, y, weight.rows, begin, end); });
}

}  // namespace phirun
