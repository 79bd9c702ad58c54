// Repacking of row-major weights into 16-row panels (see packed_layout.h). Runs once per weight
// at load; plain scalar code, the same for every kernel variant.
#include <cstring>

#include "kernels/cpu/gemm/packed_layout.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"

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

float f16_at(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  return fp16_to_fp32(bits);
}

}  // namespace

void unpack_row(const MatrixView& packed, int64_t row, float* out) {
  const auto* base = static_cast<const uint8_t*>(packed.data);
  const int64_t p = row / kPanelRows, i = row % kPanelRows;
  const uint8_t* panel = base + p * panel_bytes(packed.type, packed.cols);
  const int64_t step = panel_step_bytes(packed.type);
  switch (packed.type) {
    case TensorType::F32:
      for (int64_t k = 0; k < packed.cols; ++k) std::memcpy(out + k, panel + k * step + 4 * i, 4);
      return;
    case TensorType::F16:
      for (int64_t k = 0; k < packed.cols; ++k) out[k] = f16_at(panel + k * step + 2 * i);
      return;
    case TensorType::BF16:
      for (int64_t k = 0; k < packed.cols; ++k) {
        uint16_t bits;
        std::memcpy(&bits, panel + k * step + 2 * i, 2);
        out[k] = bf16_to_fp32(bits);
      }
      return;
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q8_0:
      break;
  }
  for (int64_t b = 0; b < packed.cols / 32; ++b) {
    const uint8_t* block = panel + b * step;
    const float d = f16_at(block + 2 * i);
    float* x = out + 32 * b;
    if (packed.type == TensorType::Q8_0) {
      for (int j = 0; j < 32; ++j) x[j] = d * float(int(block[32 + 64 * (j / 4) + 4 * i + j % 4]) - 128);
      continue;
    }
    const bool has_min = packed.type == TensorType::Q4_1;
    const float m = has_min ? f16_at(block + 32 + 2 * i) : 0.0f;
    const uint8_t* codes = block + (has_min ? 64 : 32);
    for (int j = 0; j < 16; ++j) {
      const uint8_t byte = codes[64 * (j / 4) + 4 * i + j % 4];
      x[j] = has_min ? d * float(byte & 0x0f) + m : d * float((byte & 0x0f) - 8);
      x[j + 16] = has_min ? d * float(byte >> 4) + m : d * float((byte >> 4) - 8);
    }
  }
}

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
