// Matmul dispatch: weights repacked at load run on the active SIMD variant's panel kernels,
// panels split evenly over the threads (each output is computed by one thread with the same
// code whatever the split, so results do not depend on the thread count); row-major weights
// run on the reference path.
#include <algorithm>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm/packed_layout.h"
#include "kernels/cpu/stream_buffer.h"

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
  storage.reset(allocate_stream_buffer(bytes));
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
  const MatrixView* weights[] = {&weight};
  float* ys[] = {y};
  matmul_group(weights, x, n_rows, ys);
}

void CpuOps::matmul_group(std::span<const MatrixView* const> weights, const float* x, int64_t n_rows,
                          std::span<float* const> ys) {
  if (weights.empty()) return;
  const MatrixView& first = *weights[0];
  bool shared = true;  // one activation preparation and one thread pass for all of them
  for (const MatrixView* w : weights)
    shared = shared && w->layout == MatrixLayout::CpuPanels16 && w->type == first.type && w->cols == first.cols;
  if (!shared) {
    for (size_t i = 0; i < weights.size(); ++i) {
      if (weights[i]->layout == MatrixLayout::RowMajor) {
        matmul_row_major(*weights[i], x, n_rows, ys[i]);
      } else {
        matmul_group(weights.subspan(i, 1), x, n_rows, ys.subspan(i, 1));
      }
    }
    return;
  }
  if (!kernels_)
    throw std::runtime_error(
        "matmul: the weights were repacked for a SIMD kernel variant, but the scalar one is active");
  const FamilyKernels& family = kernels_->family(first.type);
  const int64_t cols = first.cols;
  // The weights' panels as one range: weight i owns [panel_starts[i], panel_starts[i + 1]).
  constexpr size_t kMaxGroup = 8;
  if (weights.size() > kMaxGroup) throw std::invalid_argument("matmul_group: more than 8 weights");
  int64_t panel_starts[kMaxGroup + 1] = {0};
  for (size_t i = 0; i < weights.size(); ++i) panel_starts[i + 1] = panel_starts[i] + panel_count(weights[i]->rows);
  // Runs `kernel(weight, y, begin, end)` over global panels [begin, end), cut at weight borders.
  auto over_panels = [&](auto&& kernel) {
    pool_.parallel_for(panel_starts[weights.size()], [&](int64_t begin, int64_t end) {
      for (size_t i = 0; i < weights.size() && begin < end; ++i) {
        if (begin >= panel_starts[i + 1]) continue;
        const int64_t stop = std::min(end, panel_starts[i + 1]);
        kernel(*weights[i], ys[i], begin - panel_starts[i], stop - panel_starts[i]);
        begin = stop;
      }
    });
  };
  if (activations_ != ActivationPrecision::Float && family.int8_gemm) {
    const bool split = activations_ == ActivationPrecision::Int16;
    int8_.reserve_rows(n_rows, cols, split);
    const Int8Rows quantized = int8_.view(cols, split);
    const QuantizeRowsKernel quantize = kernels_->quantize_rows;
    if (n_rows < 4) {
      quantize(x, n_rows, cols, family.int8_bias, quantized);
    } else {
      pool_.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
        const int64_t blocks = cols / 32;
        const Int8Rows part{quantized.q + begin * cols,
                            quantized.scale + begin * blocks,
                            quantized.offset + begin * blocks,
                            quantized.scaled_sum + begin * blocks,
                            cols,
                            split ? quantized.lo + begin * cols : nullptr};
        quantize(x + begin * cols, end - begin, cols, family.int8_bias, part);
      });
    }
    over_panels([&](const MatrixView& w, float* y, int64_t begin, int64_t end) {
      family.int8_gemm(w, quantized, n_rows, y, w.rows, begin, end);
    });
    return;
  }
  FloatRows rows{x, nullptr, cols};
  if (is_block_type(first.type)) {
    // Block sums let the kernels apply the weights' offset once per block.
    const int64_t blocks = cols / 32;
    if (block_sums_.size() < size_t(n_rows * blocks)) block_sums_.resize(size_t(n_rows * blocks));
    for (int64_t i = 0; i < n_rows * blocks; ++i) {
      float sum = 0.0f;
      for (int j = 0; j < 32; ++j) sum += x[32 * i + j];
      block_sums_[size_t(i)] = sum;
    }
    rows.block_sums = block_sums_.data();
  }
  over_panels([&](const MatrixView& w, float* y, int64_t begin, int64_t end) {
    family.float_gemm(w, rows, n_rows, y, w.rows, begin, end);
  });
}

}  // namespace phirun
