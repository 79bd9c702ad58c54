// The tensor element types phirun reads and writes, with ggml's type ids, and one traits table
// per type: block size, bytes per block, and the scalar reference routines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace phirun {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 8,
  BF16 = 30,
};

struct TypeTraits {
  TensorType type;
  std::string_view name;   // as ggml spells it: "F32", "Q4_1", ...
  int64_t block_elements;  // weights per block (1 for the float types)
  int64_t block_bytes;     // bytes per block
  // Scalar references: the truth that every SIMD and GPU variant is tested against.
  // `n` is a multiple of block_elements.
  void (*dequantize)(const void* src, float* dst, int64_t n);
  void (*quantize)(const float* src, void* dst, int64_t n);
  // Dot product of one row of this type with float activations, accumulated in float
  // per block then summed in double across blocks.
  float (*dot)(const void* row, const float* x, int64_t n);
};

// nullopt for an id phirun does not know (k-quants, future types).
std::optional<TensorType> tensor_type_from_id(uint32_t id);
const TypeTraits& type_traits(TensorType type);
std::string_view type_name(TensorType type);

// Bytes of a row of `n` elements, or nullopt when n is not a whole number of blocks
// or the size would overflow.
std::optional<uint64_t> row_bytes(TensorType type, int64_t n);

}  // namespace phirun
