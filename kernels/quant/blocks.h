// Block layouts of the quantized tensor types, byte-compatible with ggml so files interoperate.
// Every block holds 32 consecutive weights of one row; a row is a whole number of blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace phirun {

inline constexpr int kQuantBlock = 32;

// Q8_0, 34 bytes:  | d: f16 | qs[0] ... qs[31]: int8 |      x[i] = d * qs[i]
struct block_q8_0 {
  uint16_t d;
  int8_t qs[kQuantBlock];
};
static_assert(sizeof(block_q8_0) == 34, "Q8_0 block must be 34 bytes");

// Q4_0, 18 bytes:  | d: f16 | qs[0] ... qs[15] |
// qs[j] low nibble is element j, high nibble element j + 16;  x = d * (q - 8)
struct block_q4_0 {
  uint16_t d;
  uint8_t qs[kQuantBlock / 2];
};
static_assert(sizeof(block_q4_0) == 18, "Q4_0 block must be 18 bytes");

// Q4_1, 20 bytes:  | d: f16 | m: f16 | qs[0] ... qs[15] |
// same nibble order as Q4_0;  x = d * q + m
struct block_q4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQuantBlock / 2];
};
static_assert(sizeof(block_q4_1) == 20, "Q4_1 block must be 20 bytes");

static_assert(alignof(block_q8_0) == 2 && alignof(block_q4_0) == 2 && alignof(block_q4_1) == 2,
              "blocks are packed back to back in files: only 2-byte alignment may be assumed");

}  // namespace phirun
