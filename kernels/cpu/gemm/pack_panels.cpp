// Repacking of row-major weights into 16-row panels (see packed_layout.h). Runs once per weight
// at load; plain scalar code, the same for every kernel variant.
#include <cstring>

#include "kernels/cpu/gemm/packed_layout.h"
#include "kernels/quant/blocks.h"

namespace phirun {

namespace {

template <class Block>
const Block* block_at(const MatrixView& weight, int64_t row, int64_t b) {
  return static_cast<const Block*>(weight.data) + row * (weight.cols / 32) + b;
}

template <class Block, bool kHasMin, int kGroups, uint8_t kFlip>
void pack_blocks(const MatrixView& weight, uint8_t* out) {
  const int64_t blocks = weight.cols / 32;
  const int64_t step = panel_step_bytes(weight.type);
  for (int64_t p = 0; p < panel_count(weight.rows); ++p) {
    for (int64_t b = 0; b < blocks; ++b) {
      uint8_t* dst = out + (p * blocks + b) * step;
      std::memset(dst, 0, size_t(step));
      for (int i = 0; i < kPanelRows; ++i) {
        const int64_t row = p * kPanelRows + i;
        if (row >= weight.rows) break;
        const Block* block = block_at<Block>(weight, row, b);
        std::memcpy(dst + 2 * i, &block->d, 2);
        uint8_t* codes = dst + 2 * kPanelRows;
        if constexpr (kHasMin) {
          std::memcpy(dst + 2 * kPanelRows + 2 * i, &block->m, 2);
          codes += 2 * kPanelRows;
        }
        for (int g = 0; g < kGroups; ++g)
          for (int j = 0; j < 4; ++j) codes[64 * g + 4 * i + j] = uint8_t(uint8_t(block->qs[4 * g + j]) ^ kFlip);
      }
    }
  }
}

void pack_floats(const MatrixView& weight, uint8_t* out, int element_bytes) {
  const auto* src = static_cast<const uint8_t*>(weight.data);
  for (int64_t p = 0; p < panel_count(weight.rows); ++p) {
    uint8_t* panel = out + p * weight.cols * kPanelRows * element_bytes;
    std::memset(panel, 0, size_t(weight.cols * kPanelRows * element_bytes));
    for (int i = 0; i < kPanelRows; ++i) {
      const int64_t row = p * kPanelRows + i;
      if (row >= weight.rows) break;
      for (int64_t k = 0; k < weight.cols; ++k)
        std::memcpy(panel + (k * kPanelRows + i) * element_bytes, src + (row * weight.cols + k) * element_bytes,
                    size_t(element_bytes));
    }
  }
}

}  // namespace

void pack_panels(const MatrixView& weight, uint8_t* out) {
  switch (weight.type) {
    case TensorType::F32:
      return pack_floats(weight, out, 4);
    case TensorType::F16:
    case TensorType::BF16:
      return pack_floats(weight, out, 2);
    case TensorType::Q4_0:
      return pack_blocks<block_q4_0, false, 4, 0>(weight, out);
    case TensorType::Q4_1:
      return pack_blocks<block_q4_1, true, 4, 0>(weight, out);
    case TensorType::Q8_0:
      return pack_blocks<block_q8_0, false, 8, 0x80>(weight, out);
  }
}

}  // namespace phirun
