// The CUDA kernels of the op set, callable from plain C++: every pointer is device memory, every
// `stream` an opaque cudaStream_t (nullptr: the default stream). Launches are asynchronous; bad
// shapes or types throw std::runtime_error before anything is queued. Each kernel mirrors a CPU
// scalar reference (kernels/cpu/cpu_ops.h) and is tested against it in tests/cuda/.
#pragma once

#include <cstdint>

#include "kernels/cuda/device.h"
#include "kernels/ops.h"

namespace phirun {

// Decode: y[r] = dot(W row r, x) for one activation row. W is row-major in the file's layout
// (F32, F16, BF16, Q8_0, Q4_0, Q4_1) at a 16-byte aligned device address; x is 16-byte aligned.
// One warp per output row, FP32 accumulation, quantized blocks dequantized in registers.
void cuda_gemv(const MatrixView& weight, const float* x, float* y, void* stream);

// out[t] = x[t] / rms(x[t]) * weight over n_rows rows of `dim`.
void cuda_rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps, float* out,
                   void* stream);
// Rotates x [n_rows][n_heads][head_dim] in place, row t at start_position + t, as CpuOps::rope.
// params.frequency_factors, when set, points to rotary_dims / 2 floats in device memory.
void cuda_rope(float* x, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t start_position,
               const RopeParams& params, void* stream);
// out[i] = silu(gate[i]) * up[i]
void cuda_swiglu(const float* gate, const float* up, int64_t n, float* out, void* stream);
// out[i] = gelu_tanh(gate[i]) * up[i]
void cuda_geglu(const float* gate, const float* up, int64_t n, float* out, void* stream);
// x[i] += y[i]
void cuda_add(float* x, const float* y, int64_t n, void* stream);
// out[t][:] = row ids[t] of the table (row-major, any type cuda_gemv takes), as floats. The ids
// live in device memory; the caller checks them against table.rows on the host before upload.
// An id out of range still cannot read outside the table: its row comes out as NaN.
void cuda_embed(const MatrixView& table, const int32_t* ids, int64_t n_ids, float* out, void* stream);

// Writes k and v ([n_rows][n_kv_heads * head_dim]) into the cache (device memory, F16 or F32)
// at start_position onwards, as CpuOps::store_kv: row p % capacity, F16 rounded to nearest even.
void cuda_store_kv(const KvLayerView& cache, const float* k, const float* v, int64_t n_rows, int64_t start_position,
                   void* stream);

// Causal attention as CpuOps::attention (grouped-query heads, sliding window, ring caches), split
// over thread blocks of 256 attended positions each (flash decoding) and merged by online-softmax
// rescaling. head_dim at most 256. Keeps its scratch for the partial results between calls: one
// object per stream.
class CudaAttention {
 public:
  void attention(const float* q, int64_t n_rows, int64_t start_position, const KvLayerView& cache,
                 const AttentionParams& params, float* out, void* stream);

 private:
  DeviceBuffer partials_;
};

// Prefill: y[t][r] = dot(W row r, x[t]) for n_rows activation rows through cuBLAS (cublasGemmEx,
// FP32 accumulation). Quantized weights are dequantized to F16 into a scratch buffer first; F16
// and BF16 weights are used as stored, with the activations rounded to the same 16-bit type;
// F32 weights multiply F32 activations. Activations past F16's range (65504) become infinite.
// Keeps a cuBLAS handle and its scratch buffers: one object per stream.
class CudaGemm {
 public:
  CudaGemm();
  ~CudaGemm();
  CudaGemm(const CudaGemm&) = delete;
  CudaGemm& operator=(const CudaGemm&) = delete;

  void matmul(const MatrixView& weight, const float* x, int64_t n_rows, float* y, void* stream);

 private:
  void* handle_ = nullptr;  // cublasHandle_t
  DeviceBuffer weight_16bit_, activations_16bit_;
};

// The dequantization step of CudaGemm: W (Q8_0, Q4_0, Q4_1, F16, BF16, F32) to F16, row-major
// [rows][cols], each value rounded to nearest even.
void cuda_dequantize_to_f16(const MatrixView& weight, uint16_t* out, void* stream);

}  // namespace phirun
