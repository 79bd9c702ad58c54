// Scalar reference implementations for every tensor type: dequantize, quantize (round to
// nearest from the block's max-abs or range, ggml's reference rule) and dot with floats.
#include "kernels/quant/tensor_type.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/quant/blocks.h"
#include "kernels/quant/half.h"

namespace phirun {
namespace {

constexpr int B = kQuantBlock;

// --- dequantize --------------------------------------------------------------------------------

void dequantize_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }

void dequantize_f16(const void* src, float* dst, int64_t n) {
  // Tensor data is 32-byte aligned in GGUF files, so rows of halves are 2-byte aligned.
  fp16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n);
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  const auto* in = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t half;
    std::memcpy(&half, in + 2 * i, 2);
    dst[i] = bf16_to_fp32(half);
  }
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const block_q8_0*>(src);
  for (int64_t b = 0; b < n / B; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    for (int j = 0; j < B; ++j) dst[b * B + j] = d * float(blocks[b].qs[j]);
  }
}

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const block_q4_0*>(src);
  for (int64_t b = 0; b < n / B; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    for (int j = 0; j < B / 2; ++j) {
      dst[b * B + j] = d * float((blocks[b].qs[j] & 0x0f) - 8);
      dst[b * B + j + B / 2] = d * float((blocks[b].qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const block_q4_1*>(src);
  for (int64_t b = 0; b < n / B; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    const float m = fp16_to_fp32(blocks[b].m);
    for (int j = 0; j < B / 2; ++j) {
      dst[b * B + j] = d * float(blocks[b].qs[j] & 0x0f) + m;
      dst[b * B + j + B / 2] = d * float(blocks[b].qs[j] >> 4) + m;
    }
  }
}

// --- quantize (reference rounding; the builder's error-minimising quantizer comes later) ------

void quantize_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }

void quantize_f16(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t half = fp32_to_fp16(src[i]);
    std::memcpy(out + 2 * i, &half, 2);
  }
}

void quantize_bf16(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t half = fp32_to_bf16(src[i]);
    std::memcpy(out + 2 * i, &half, 2);
  }
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<block_q8_0*>(dst);
  for (int64_t b = 0; b < n / B; ++b) {
    const float* x = src + b * B;
    float amax = 0.0f;
    for (int j = 0; j < B; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = fp32_to_fp16(d);
    for (int j = 0; j < B; ++j) blocks[b].qs[j] = int8_t(std::lround(x[j] * inverse));
  }
}

void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<block_q4_0*>(dst);
  for (int64_t b = 0; b < n / B; ++b) {
    const float* x = src + b * B;
    // The value of largest magnitude maps to -8, so the full 16 levels are used.
    float extreme = 0.0f;
    for (int j = 0; j < B; ++j)
      if (std::fabs(x[j]) > std::fabs(extreme)) extreme = x[j];
    const float d = extreme / -8.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = fp32_to_fp16(d);
    for (int j = 0; j < B / 2; ++j) {
      const int lo = std::min(15, int(x[j] * inverse + 8.5f));
      const int hi = std::min(15, int(x[j + B / 2] * inverse + 8.5f));
      blocks[b].qs[j] = uint8_t(lo | (hi << 4));
    }
  }
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<block_q4_1*>(dst);
  for (int64_t b = 0; b < n / B; ++b) {
    const float* x = src + b * B;
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    for (int j = 0; j < B; ++j) {
      lo = std::min(lo, x[j]);
      hi = std::max(hi, x[j]);
    }
    const float d = (hi - lo) / 15.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = fp32_to_fp16(d);
    blocks[b].m = fp32_to_fp16(lo);
    for (int j = 0; j < B / 2; ++j) {
      const int q_lo = std::min(15, int((x[j] - lo) * inverse + 0.5f));
      const int q_hi = std::min(15, int((x[j + B / 2] - lo) * inverse + 0.5f));
      blocks[b].qs[j] = uint8_t(q_lo | (q_hi << 4));
    }
  }
}

// --- dot with float activations -----------------------------------------------------------------
// One definition for every type: dequantize a block of 32, accumulate into 32 independent float
// lanes (so the compiler may vectorize without reassociating), then add the lanes pairwise.

template <void (*Dequantize)(const void*, float*, int64_t), int64_t BlockBytes>
float dot_by_blocks(const void* row, const float* x, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(row);
  float lanes[B] = {};
  float weights[B];
  int64_t i = 0;
  for (; i + B <= n; i += B) {
    Dequantize(bytes + (i / B) * BlockBytes, weights, B);
    for (int j = 0; j < B; ++j) lanes[j] += weights[j] * x[i + j];
  }
  // Float types only: a tail shorter than 32 (quantized rows are whole blocks).
  if (i < n) {
    Dequantize(bytes + (i / B) * BlockBytes, weights, n - i);
    for (int64_t j = 0; j < n - i; ++j) lanes[j] += weights[j] * x[i + j];
  }
  for (int width = B / 2; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) lanes[j] += lanes[j + width];
  return lanes[0];
}

const TypeTraits kTraits[] = {
    {TensorType::F32, "F32", 1, 4, dequantize_f32, quantize_f32, dot_by_blocks<dequantize_f32, 4 * B>},
    {TensorType::F16, "F16", 1, 2, dequantize_f16, quantize_f16, dot_by_blocks<dequantize_f16, 2 * B>},
    {TensorType::Q4_0, "Q4_0", B, sizeof(block_q4_0), dequantize_q4_0, quantize_q4_0,
     dot_by_blocks<dequantize_q4_0, sizeof(block_q4_0)>},
    {TensorType::Q4_1, "Q4_1", B, sizeof(block_q4_1), dequantize_q4_1, quantize_q4_1,
     dot_by_blocks<dequantize_q4_1, sizeof(block_q4_1)>},
    {TensorType::Q8_0, "Q8_0", B, sizeof(block_q8_0), dequantize_q8_0, quantize_q8_0,
     dot_by_blocks<dequantize_q8_0, sizeof(block_q8_0)>},
    {TensorType::BF16, "BF16", 1, 2, dequantize_bf16, quantize_bf16, dot_by_blocks<dequantize_bf16, 2 * B>},
};

}  // namespace

std::optional<TensorType> tensor_type_from_id(uint32_t id) {
  for (const TypeTraits& traits : kTraits)
    if (uint32_t(traits.type) == id) return traits.type;
  return std::nullopt;
}

const TypeTraits& type_traits(TensorType type) {
  for (const TypeTraits& traits : kTraits)
    if (traits.type == type) return traits;
  return kTraits[0];  // unreachable for a valid enum value: every TensorType has a row
}

std::string_view type_name(TensorType type) { return type_traits(type).name; }

std::optional<uint64_t> row_bytes(TensorType type, int64_t n) {
  const TypeTraits& traits = type_traits(type);
  if (n < 0 || n % traits.block_elements != 0) return std::nullopt;
  const uint64_t blocks = uint64_t(n / traits.block_elements);
  if (blocks > std::numeric_limits<uint64_t>::max() / uint64_t(traits.block_bytes)) return std::nullopt;
  return blocks * uint64_t(traits.block_bytes);
}

}  // namespace phirun
