// The layout weights are repacked into at load: panels of 16 rows, so that one 512-bit register
// (or two 256-bit, four 128-bit ones) holds one value per row and a single stream of bytes feeds
// 16 dot products at once.
//
// Float types (F32, F16, BF16): panel p holds, for k = 0 .. cols-1, the 16 values W[16p + i][k]
// (i = 0..15) in the type's own encoding.
// Block types (Q4_0, Q4_1, Q8_0): panel p holds, for each block column b of 32 weights:
//   16 scales d (f16), then for Q4_1 16 minimums m (f16), then the codes in groups of 64 bytes:
//   group g holds, for row i, the 4 bytes qs[4g .. 4g+3] of row 16p + i's block b.
//   Q4: 4 groups; low nibbles are elements 4g..4g+3, high nibbles elements 16+4g..16+4g+3.
//   Q8_0: 8 groups of elements 4g..4g+3, stored as unsigned bytes (q + 128), which is what the
//   unsigned-by-signed byte dot products of x86 (vpdpbusd, vpmaddubsw) take.
// Rows past the matrix's last (padding of the last panel) are zeros.
#pragma once

#include <cstdint>

#include "kernels/ops.h"

namespace phirun {

inline constexpr int kPanelRows = 16;

inline int64_t panel_count(int64_t rows) { return (rows + kPanelRows - 1) / kPanelRows; }

// Bytes of one block column of one panel (block types), or of one column k (float types).
inline int64_t panel_step_bytes(TensorType type) {
  switch (type) {
    case TensorType::F32:
      return 4 * kPanelRows;
    case TensorType::F16:
    case TensorType::BF16:
      return 2 * kPanelRows;
    case TensorType::Q4_0:
      return 2 * kPanelRows + 4 * 64;
    case TensorType::Q4_1:
      return 4 * kPanelRows + 4 * 64;
    case TensorType::Q8_0:
      return 2 * kPanelRows + 8 * 64;
  }
  return 0;
}

inline bool is_block_type(TensorType type) {
  return type == TensorType::Q4_0 || type == TensorType::Q4_1 || type == TensorType::Q8_0;
}

// Steps per panel: block columns (block types) or columns (float types).
inline int64_t panel_steps(TensorType type, int64_t cols) { return is_block_type(type) ? cols / 32 : cols; }

inline int64_t panel_bytes(TensorType type, int64_t cols) { return panel_steps(type, cols) * panel_step_bytes(type); }

inline int64_t packed_matrix_bytes(TensorType type, int64_t rows, int64_t cols) {
  return panel_count(rows) * panel_bytes(type, cols);
}

// Writes `weight` (row-major, as in the file) into `out` (packed_matrix_bytes of it).
void pack_panels(const MatrixView& weight, uint8_t* out);
// Row `row` of a packed matrix as floats (cols of them): what the file's row dequantizes to.
void unpack_row(const MatrixView& packed, int64_t row, float* out);

}  // namespace phirun
