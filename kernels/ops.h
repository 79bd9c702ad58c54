// The op interface: the seam between a model's forward pass and a device. A forward pass is
// written once against `Ops`; each back end (CPU now, CUDA later) implements the set.
// Activation pointers are the back end's own memory: host memory for the CPU.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "kernels/quant/tensor_type.h"

namespace phirun {

// How a weight matrix's bytes are laid out: as in the file (row after row), or repacked once at
// load by a back end into its own layout (the CPU's: kernels/cpu/gemm/packed_layout.h).
enum class MatrixLayout { RowMajor, CpuPanels16 };

// A weight matrix of `rows` rows of `cols` elements each, stored in `type`.
// y = W x multiplies rows by the activation vector: W is [out_features][in_features].
struct MatrixView {
  TensorType type = TensorType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  MatrixLayout layout = MatrixLayout::RowMajor;
};

// Memory that a back end keeps a prepared (repacked) weight in.
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using WeightBuffer = std::unique_ptr<uint8_t[], FreeDeleter>;

// The precision of the activations fed to matmuls with integer weights (Q4_0, Q4_1, Q8_0).
// Float keeps them as computed: results equal float math on the dequantized weights. Int8
// quantizes them per block of 32 (as llama.cpp does) so dot products run in integer units:
// faster, but greedy text can change on fragile models. Int16 splits each block into two int8
// planes, x ~= s * (hi + lo / 256), and runs two integer dots per block: about 1/65000 of the
// block's largest value in error instead of 1/254, at about twice the integer work of Int8.
enum class ActivationPrecision { Float, Int8, Int16 };

// One layer of the KV cache of one sequence: keys and values laid out
// [kv_head][row][head_dim], F16 or F32. Position p lives in row p % capacity: a cache at least as
// long as the sequence holds every position in order; a shorter one (sliding-window models) is a
// ring that keeps the last `capacity` positions.
struct KvLayerView {
  TensorType type = TensorType::F16;
  int64_t n_kv_heads = 0;
  int64_t capacity = 0;  // positions allocated
  int64_t head_dim = 0;
  void* keys = nullptr;
  void* values = nullptr;
};

// The cache rows a query at `position` attends, oldest position first: one run of rows, or two
// when the positions wrap around a ring. The caller guarantees that they fit: at most `capacity`.
struct AttendedRows {
  int64_t first[2] = {0, 0};
  int64_t count[2] = {0, 0};
  int runs = 1;
};
inline AttendedRows attended_rows(int64_t position, int64_t window, int64_t capacity) {
  const int64_t oldest = window > 0 && position - window + 1 > 0 ? position - window + 1 : 0;
  const int64_t begin = oldest % capacity, n = position - oldest + 1;
  if (begin + n <= capacity) return {{begin, 0}, {n, 0}, 1};
  return {{begin, 0}, {capacity - begin, n - (capacity - begin)}, 2};
}

enum class RopePairing {
  Adjacent,  // rotate dims (2i, 2i+1): llama.cpp's layout for `llama` GGUFs (Q/K rows permuted)
  Halves,    // rotate dims (i, i + d/2): Hugging Face's rotate_half layout
};

struct RopeParams {
  float theta = 10000.0f;
  int64_t rotary_dims = 0;  // the first rotary_dims of each head rotate (partial rotary)
  RopePairing pairing = RopePairing::Adjacent;
  // LongRoPE (Phi-3-128k, Phi-4-mini): inverse frequency i is 1 / (factors[i] * theta^(2i/d)),
  // rotary_dims / 2 factors; nullptr: plain RoPE. cos and sin are multiplied by attention_factor.
  const float* frequency_factors = nullptr;
  float attention_factor = 1.0f;
};

struct AttentionParams {
  int64_t n_heads = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;  // usually 1/sqrt(head_dim)
  // Sliding window: a query at position q sees the keys at positions q - window + 1 ..= q (as
  // transformers' sliding_window_overlay: kv > q - window). 0: every earlier position.
  int64_t window = 0;
};

class Ops {
 public:
  virtual ~Ops() = default;

  // Returns the view to pass to matmul for `weight` from now on: the same view, or one of a copy
  // repacked into the back end's layout, kept in `storage`. Called once per weight at load.
  virtual MatrixView prepare_weight(const MatrixView& weight, WeightBuffer& storage) = 0;

  // out[t][:] = row ids[t] of the table, as floats.
  virtual void embed(const MatrixView& table, std::span<const int32_t> ids, float* out) = 0;
  // out[t] = x[t] / rms(x[t]) * weight, over n_rows rows of `dim`.
  virtual void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps, float* out) = 0;
  // y[t][r] = dot(W row r, x[t]) for t < n_rows: y is [n_rows][W.rows], x is [n_rows][W.cols].
  virtual void matmul(const MatrixView& weight, const float* x, int64_t n_rows, float* y) = 0;
  // ys[i] = weights[i] x for weights that read the same activations (a layer's Q, K and V; gate
  // and up), each exactly as matmul computes it. One call lets a back end prepare x once and
  // share one pass of its threads; this default runs them one after another.
  virtual void matmul_group(std::span<const MatrixView* const> weights, const float* x, int64_t n_rows,
                            std::span<float* const> ys) {
    for (size_t i = 0; i < weights.size(); ++i) matmul(*weights[i], x, n_rows, ys[i]);
  }
  // Rotates x [n_rows][n_heads][head_dim] in place; row t sits at position start_position + t.
  virtual void rope(float* x, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t start_position,
                    const RopeParams& params) = 0;
  // Writes k and v ([n_rows][n_kv_heads * head_dim]) into the cache at start_position onwards.
  virtual void store_kv(const KvLayerView& cache, const float* k, const float* v, int64_t n_rows,
                        int64_t start_position) = 0;
  // Causal attention of q [n_rows][n_heads * head_dim] (row t at start_position + t) over the
  // cache positions 0 ..= start_position + t (the last params.window of them when windowed);
  // grouped-query heads share KV heads in order. The cache must still hold those positions.
  virtual void attention(const float* q, int64_t n_rows, int64_t start_position, const KvLayerView& cache,
                         const AttentionParams& params, float* out) = 0;
  // out[i] = silu(gate[i]) * up[i]
  virtual void swiglu(const float* gate, const float* up, int64_t n, float* out) = 0;
  // out[i] = gelu_tanh(gate[i]) * up[i], gelu_tanh(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  // (Gemma's GeGLU, transformers' gelu_pytorch_tanh).
  virtual void geglu(const float* gate, const float* up, int64_t n, float* out) = 0;
  // x[i] += y[i]
  virtual void add(float* x, const float* y, int64_t n) = 0;
};

}  // namespace phirun
