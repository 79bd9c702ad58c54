// The CPU back end of the op interface: plain C++ over a thread pool. These are also the
// scalar references that SIMD variants are tested against.
#pragma once

#include <vector>

#include "kernels/cpu/gemm/activations.h"
#include "kernels/cpu/gemm/gemm_kernels.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/ops.h"

namespace phirun {

class CpuOps final : public Ops {
 public:
  // The kernel variant is the one active when constructed (active_isa()).
  explicit CpuOps(ThreadPool& pool, ActivationPrecision activations = ActivationPrecision::Float);

  MatrixView prepare_weight(const MatrixView& weight, WeightBuffer& storage) override;

  void embed(const MatrixView& table, std::span<const int32_t> ids, float* out) override;
  void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps, float* out) override;
  void matmul(const MatrixView& weight, const float* x, int64_t n_rows, float* y) override;
  // Weights of one type and width share the activations' quantization (or block sums) and one
  // parallel_for over all their panels; others run one by one.
  void matmul_group(std::span<const MatrixView* const> weights, const float* x, int64_t n_rows,
                    std::span<float* const> ys) override;
  void rope(float* x, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t start_position,
            const RopeParams& params) override;
  void store_kv(const KvLayerView& cache, const float* k, const float* v, int64_t n_rows,
                int64_t start_position) override;
  void attention(const float* q, int64_t n_rows, int64_t start_position, const KvLayerView& cache,
                 const AttentionParams& params, float* out) override;
  void swiglu(const float* gate, const float* up, int64_t n, float* out) override;
  void geglu(const float* gate, const float* up, int64_t n, float* out) override;
  void add(float* x, const float* y, int64_t n) override;

 private:
  struct RopeTable {
    int64_t start_position = -1;
    int64_t n_rows = 0;
    float theta = 0.0f;
    int64_t rotary_dims = 0;
    const float* frequency_factors = nullptr;
    float attention_factor = 1.0f;
    std::vector<float> cosines, sines;  // [row][rotary_dims / 2]
  };

  // The reference path: the file's row-major layout, one row dequantized (or dotted with int8
  // activations) at a time.
  void matmul_row_major(const MatrixView& weight, const float* x, int64_t n_rows, float* y);

  ThreadPool& pool_;
  ActivationPrecision activations_;
  const GemmKernels* kernels_;   // nullptr: the scalar reference variant
  const OpKernels* op_kernels_;  // likewise
  RopeTable rope_table_;
  Int8Buffers int8_;
  std::vector<float> block_sums_;
};

// Repacks `weight` for the CPU kernels when a SIMD variant is active (see prepare_weight).
MatrixView cpu_prepare_weight(const MatrixView& weight, WeightBuffer& storage);

// Single-threaded building blocks, exposed for tests.
void rope_angles_ref(int64_t position, const RopeParams& params, float* cosines, float* sines);
void rope_head_ref(float* head, const float* cosines, const float* sines, const RopeParams& params);
float dot_f32(const float* a, const float* b, int64_t n);

}  // namespace phirun
