// Decode GEMV: one warp per output row, four rows per block of 128 threads. Float rows read
// 128 bits (4 floats or 8 halves) per lane per step when the row length allows; quantized rows
// give each lane whole blocks of 32 weights (the blocks are packed back to back with 2-byte
// alignment, so their loads are 16- or 32-bit: a repacked layout for 128-bit loads comes later).
// Each lane accumulates in FP32; the warp adds its 32 partial sums with shuffles.
#include "kernels/cuda/check.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/quant/blocks.h"

namespace phirun {
namespace cuda_detail {

// Block sizes as kernels/quant/blocks.h draws them (that header is host C++ with static_asserts
// this library repeats below, so the layouts cannot drift apart).
int64_t row_stride_bytes(TensorType type, int64_t cols) {
  switch (type) {
    case TensorType::F32:
      return cols * 4;
    case TensorType::F16:
    case TensorType::BF16:
      return cols * 2;
    case TensorType::Q8_0:
      return cols / 32 * int64_t(sizeof(block_q8_0));
    case TensorType::Q4_0:
      return cols / 32 * int64_t(sizeof(block_q4_0));
    case TensorType::Q4_1:
      return cols / 32 * int64_t(sizeof(block_q4_1));
  }
  throw std::runtime_error("kernels/cuda: unsupported tensor type");
}

std::string type_label(TensorType type) { return "type id " + std::to_string(static_cast<uint32_t>(type)); }

void check_matrix(const MatrixView& weight, const char* file, const char* what) {
  const std::string name(what);
  require(supported_row_type(weight.type), file, name + ": " + type_label(weight.type) + " has no CUDA kernel");
  require(weight.layout == MatrixLayout::RowMajor, file, name + ": only the row-major layout is supported");
  require(weight.rows > 0 && weight.cols > 0, file, name + ": empty matrix");
  require(!is_block_type(weight.type) || weight.cols % 32 == 0, file,
          name + ": a quantized row must be a whole number of 32-weight blocks");
  require(weight.data != nullptr && aligned16(weight.data), file,
          name + ": data must be 16-byte aligned device memory");
}

}  // namespace cuda_detail

namespace {

using namespace cuda_detail;

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 4;

__device__ __forceinline__ float warp_sum(float value) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;
}

// The 32 activations of block b, read as eight 128-bit loads (x is 16-byte aligned).
__device__ __forceinline__ void load_block_activations(const float* x, int64_t b, float (&xs)[32]) {
  const float4* source = reinterpret_cast<const float4*>(x + b * 32);
#pragma unroll
  for (int k = 0; k < 8; ++k) {
    const float4 v = source[k];
    xs[4 * k] = v.x, xs[4 * k + 1] = v.y, xs[4 * k + 2] = v.z, xs[4 * k + 3] = v.w;
  }
}

// One lane's share of a row's dot product: whole blocks lane, lane + 32, ...
template <TensorType Type>
__device__ float lane_dot_blocks(const uint8_t* row, const float* x, int64_t cols, int lane) {
  float sum = 0.0f;
  const int64_t n_blocks = cols / 32;
  for (int64_t b = lane; b < n_blocks; b += kWarp) {
    float xs[32];
    load_block_activations(x, b, xs);
    if constexpr (Type == TensorType::Q8_0) {
      const uint8_t* block = row + b * int64_t(sizeof(block_q8_0));
      const uint16_t* codes = reinterpret_cast<const uint16_t*>(block + 2);  // 2-byte aligned
      float block_sum = 0.0f;
#pragma unroll
      for (int k = 0; k < 16; ++k) {
        const uint16_t pair = codes[k];
        block_sum += float(int8_t(pair & 0xff)) * xs[2 * k] + float(int8_t(pair >> 8)) * xs[2 * k + 1];
      }
      sum += half_bits_to_float(load_u16(block)) * block_sum;
    } else if constexpr (Type == TensorType::Q4_0) {
      const uint8_t* block = row + b * int64_t(sizeof(block_q4_0));
      const uint16_t* codes = reinterpret_cast<const uint16_t*>(block + 2);
      float block_sum = 0.0f;
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        // Bytes 2k and 2k+1: low nibbles are elements 2k, 2k+1; high nibbles 2k+16, 2k+17.
        const uint16_t pair = codes[k];
        block_sum += float(int(pair & 0x0f) - 8) * xs[2 * k] + float(int((pair >> 8) & 0x0f) - 8) * xs[2 * k + 1] +
                     float(int((pair >> 4) & 0x0f) - 8) * xs[2 * k + 16] + float(int(pair >> 12) - 8) * xs[2 * k + 17];
      }
      sum += half_bits_to_float(load_u16(block)) * block_sum;
    } else {
      static_assert(Type == TensorType::Q4_1);
      // 20-byte blocks in rows of whole blocks from a 16-byte aligned base: the codes at offset 4
      // are 4-byte aligned.
      const uint8_t* block = row + b * int64_t(sizeof(block_q4_1));
      const uint32_t* codes = reinterpret_cast<const uint32_t*>(block + 4);
      float code_sum = 0.0f, x_sum = 0.0f;
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint32_t quad = codes[k];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int j = 4 * k + i;
          code_sum += float((quad >> (8 * i)) & 0x0f) * xs[j] + float((quad >> (8 * i + 4)) & 0x0f) * xs[j + 16];
          x_sum += xs[j] + xs[j + 16];
        }
      }
      sum += half_bits_to_float(load_u16(block)) * code_sum + half_bits_to_float(load_u16(block + 2)) * x_sum;
    }
  }
  return sum;
}

// Float rows, 128 bits per lane per step: the row starts 16-byte aligned (cols is a multiple of 8
// for 16-bit types, of 4 for F32).
template <TensorType Type>
__device__ float lane_dot_vectorized(const uint8_t* row, const float* x, int64_t cols, int lane) {
  float sum = 0.0f;
  constexpr int per_load = Type == TensorType::F32 ? 4 : 8;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  const uint4* w4 = reinterpret_cast<const uint4*>(row);
  for (int64_t chunk = lane; chunk < cols / per_load; chunk += kWarp) {
    const uint4 bits = w4[chunk];
    if constexpr (Type == TensorType::F32) {
      const float4 v = x4[chunk];
      sum += __uint_as_float(bits.x) * v.x + __uint_as_float(bits.y) * v.y + __uint_as_float(bits.z) * v.z +
             __uint_as_float(bits.w) * v.w;
    } else {
      const float4 v0 = x4[2 * chunk], v1 = x4[2 * chunk + 1];
      const uint32_t words[4] = {bits.x, bits.y, bits.z, bits.w};
      const float xs[8] = {v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint16_t low = uint16_t(words[k] & 0xffff), high = uint16_t(words[k] >> 16);
        if constexpr (Type == TensorType::F16)
          sum += half_bits_to_float(low) * xs[2 * k] + half_bits_to_float(high) * xs[2 * k + 1];
        else
          sum += bf16_bits_to_float(low) * xs[2 * k] + bf16_bits_to_float(high) * xs[2 * k + 1];
      }
    }
  }
  return sum;
}

template <TensorType Type>
__device__ float lane_dot_elements(const uint8_t* row, const float* x, int64_t cols, int lane) {
  float sum = 0.0f;
  for (int64_t col = lane; col < cols; col += kWarp) sum += row_element<Type>(row, col) * x[col];
  return sum;
}

template <TensorType Type, bool Vectorized>
__global__ void gemv_kernel(const uint8_t* weight, int64_t row_stride, int64_t rows, int64_t cols, const float* x,
                            float* y) {
  const int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y;
  if (row >= rows) return;  // the whole warp leaves together: the shuffles below see all lanes
  const uint8_t* row_bytes = weight + row * row_stride;
  const int lane = int(threadIdx.x);
  float sum;
  if constexpr (is_block_type_v<Type>)
    sum = lane_dot_blocks<Type>(row_bytes, x, cols, lane);
  else if constexpr (Vectorized)
    sum = lane_dot_vectorized<Type>(row_bytes, x, cols, lane);
  else
    sum = lane_dot_elements<Type>(row_bytes, x, cols, lane);
  sum = warp_sum(sum);
  if (lane == 0) y[row] = sum;
}

}  // namespace

void cuda_gemv(const MatrixView& weight, const float* x, float* y, void* stream) {
  constexpr const char* kFile = "kernels/cuda/gemv.cu";
  check_matrix(weight, kFile, "gemv weight");
  require(x != nullptr && aligned16(x), kFile, "gemv: the activations must be 16-byte aligned device memory");
  require(y != nullptr, kFile, "gemv: no output");
  const int64_t row_stride = row_stride_bytes(weight.type, weight.cols);
  const int64_t blocks = (weight.rows + kRowsPerBlock - 1) / kRowsPerBlock;
  require(blocks < (int64_t(1) << 31), kFile, "gemv: too many rows");
  const dim3 grid(static_cast<unsigned>(blocks)), block(kWarp, kRowsPerBlock);
  const auto* bytes = static_cast<const uint8_t*>(weight.data);
  dispatch_row_type(weight.type, [&]<TensorType Type>() {
    constexpr int64_t vector_elements = Type == TensorType::F32 ? 4 : 8;
    if (!is_block_type_v<Type> && weight.cols % vector_elements == 0)
      gemv_kernel<Type, true><<<grid, block, 0, as_stream(stream)>>>(bytes, row_stride, weight.rows, weight.cols, x, y);
    else
      gemv_kernel<Type, false>
          <<<grid, block, 0, as_stream(stream)>>>(bytes, row_stride, weight.rows, weight.cols, x, y);
  });
  PHIRUN_CUDA_CHECK_LAUNCH();
}

}  // namespace phirun
