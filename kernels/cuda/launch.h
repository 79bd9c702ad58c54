// Shared by the .cu files: the stream cast, shape checks and the block-format decoding that the
// GEMV, embedding and dequantization kernels all use, so the nibble order is written once.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"
#include "kernels/quant/blocks.h"

namespace phirun::cuda_detail {

inline cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

inline void require(bool condition, const char* file, const std::string& problem) {
  if (!condition) throw std::runtime_error(std::string(file) + ": " + problem);
}

// Blocks of 1D grids over n elements, for kernels with a grid-stride loop.
inline unsigned grid_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

inline bool aligned16(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer) % 16 == 0; }

// The row-major types the kernels read, and the bytes of one row of `cols` of them.
inline bool supported_row_type(TensorType type) {
  return type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16 || type == TensorType::Q8_0 ||
         type == TensorType::Q4_0 || type == TensorType::Q4_1;
}
inline bool is_block_type(TensorType type) {
  return type == TensorType::Q8_0 || type == TensorType::Q4_0 || type == TensorType::Q4_1;
}
template <TensorType Type>
inline constexpr bool is_block_type_v =
    Type == TensorType::Q8_0 || Type == TensorType::Q4_0 || Type == TensorType::Q4_1;
int64_t row_stride_bytes(TensorType type, int64_t cols);

// Checks a weight view for the kernels: device data, row-major, a supported type, whole blocks.
void check_matrix(const MatrixView& weight, const char* file, const char* what);

__device__ __forceinline__ float half_bits_to_float(uint16_t bits) { return __half2float(__ushort_as_half(bits)); }
__device__ __forceinline__ float bf16_bits_to_float(uint16_t bits) { return __uint_as_float(uint32_t(bits) << 16); }
__device__ __forceinline__ uint16_t load_u16(const uint8_t* p) { return *reinterpret_cast<const uint16_t*>(p); }

// Element j (0..31) of a block, as the CPU reference dequantizes it (kernels/quant/blocks.h):
// products and sums rounded separately (no fused multiply-add), so results are bit-identical.
template <TensorType Type>
__device__ __forceinline__ float block_element(const uint8_t* block, int j) {
  if constexpr (Type == TensorType::Q8_0) {
    return __fmul_rn(half_bits_to_float(load_u16(block)), float(int8_t(block[2 + j])));
  } else if constexpr (Type == TensorType::Q4_0) {
    const uint8_t byte = block[2 + (j & 15)];
    const int code = j < 16 ? (byte & 0x0f) : (byte >> 4);
    return __fmul_rn(half_bits_to_float(load_u16(block)), float(code - 8));
  } else {
    static_assert(Type == TensorType::Q4_1);
    const uint8_t byte = block[4 + (j & 15)];
    const int code = j < 16 ? (byte & 0x0f) : (byte >> 4);
    return __fadd_rn(__fmul_rn(half_bits_to_float(load_u16(block)), float(code)),
                     half_bits_to_float(load_u16(block + 2)));
  }
}

// Element `col` of a row of any supported type.
template <TensorType Type>
__device__ __forceinline__ float row_element(const uint8_t* row, int64_t col) {
  if constexpr (Type == TensorType::F32) {
    return reinterpret_cast<const float*>(row)[col];
  } else if constexpr (Type == TensorType::F16) {
    return half_bits_to_float(reinterpret_cast<const uint16_t*>(row)[col]);
  } else if constexpr (Type == TensorType::BF16) {
    return bf16_bits_to_float(reinterpret_cast<const uint16_t*>(row)[col]);
  } else {
    constexpr int64_t block_bytes = Type == TensorType::Q8_0   ? sizeof(block_q8_0)
                                    : Type == TensorType::Q4_0 ? sizeof(block_q4_0)
                                                               : sizeof(block_q4_1);
    return block_element<Type>(row + (col / 32) * block_bytes, int(col % 32));
  }
}

// Calls f.template operator()<Type>() for a runtime type (one of supported_row_type).
template <typename F>
void dispatch_row_type(TensorType type, F&& f) {
  switch (type) {
    case TensorType::F32:
      return f.template operator()<TensorType::F32>();
    case TensorType::F16:
      return f.template operator()<TensorType::F16>();
    case TensorType::BF16:
      return f.template operator()<TensorType::BF16>();
    case TensorType::Q8_0:
      return f.template operator()<TensorType::Q8_0>();
    case TensorType::Q4_0:
      return f.template operator()<TensorType::Q4_0>();
    case TensorType::Q4_1:
      return f.template operator()<TensorType::Q4_1>();
    default:
      throw std::runtime_error("kernels/cuda: unsupported tensor type");
  }
}

}  // namespace phirun::cuda_detail
