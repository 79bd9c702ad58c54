// Row-wise ops of the forward pass on the device: RMSNorm, RoPE, SwiGLU, GeGLU, add, embedding.
// Each follows its CPU scalar reference's formula; where that reference rounds a product before
// a sum, so does the kernel (__fmul_rn / __fadd_rn: nvcc would otherwise fuse them).
#include <cmath>

#include "kernels/cuda/check.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.h"

namespace phirun {
namespace {

using namespace cuda_detail;

constexpr int kThreads = 256;
constexpr const char* kFile = "kernels/cuda/elementwise.cu";

// One block of kThreads per row: each thread sums squares over a strided share, then the block
// adds the partial sums (warp shuffles, then one value per warp through shared memory).
__global__ void rms_norm_kernel(const float* x, const float* weight, int64_t dim, float eps, float* out) {
  const float* row = x + int64_t(blockIdx.x) * dim;
  float* target = out + int64_t(blockIdx.x) * dim;
  float sum_squares = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += kThreads) sum_squares += row[i] * row[i];
  for (int offset = 16; offset > 0; offset /= 2) sum_squares += __shfl_down_sync(0xffffffffu, sum_squares, offset);
  __shared__ float warp_sums[kThreads / 32];
  __shared__ float inverse_rms;
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = sum_squares;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w) total += warp_sums[w];
    // IEEE division and square root (nvcc's defaults without --use_fast_math).
    inverse_rms = 1.0f / sqrtf(total / float(dim) + eps);
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < dim; i += kThreads)
    target[i] = __fmul_rn(__fmul_rn(row[i], inverse_rms), weight[i]);
}

// One thread per (row, rotary pair): the angle is computed as rope_angles_ref does (inverse
// frequency in double, then float; cos and sin in double), then applied to every head of the row.
__global__ void rope_kernel(float* x, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t start_position,
                            RopeParams params) {
  const int64_t half = params.rotary_dims / 2;
  for (int64_t task = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; task < n_rows * half;
       task += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = task / half, i = task % half;
    const float exponent = float(2 * i) / float(params.rotary_dims);
    const float inverse_frequency =
        params.frequency_factors
            ? 1.0f / __fmul_rn(params.frequency_factors[i], float(pow(double(params.theta), double(exponent))))
            : float(1.0 / pow(double(params.theta), double(exponent)));
    const float angle = __fmul_rn(float(start_position + t), inverse_frequency);
    const float cosine = __fmul_rn(float(cos(double(angle))), params.attention_factor);
    const float sine = __fmul_rn(float(sin(double(angle))), params.attention_factor);
    const bool adjacent = params.pairing == RopePairing::Adjacent;
    const int64_t a = adjacent ? 2 * i : i, b = adjacent ? 2 * i + 1 : i + half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* head = x + (t * n_heads + h) * head_dim;
      const float x0 = head[a], x1 = head[b];
      head[a] = __fsub_rn(__fmul_rn(x0, cosine), __fmul_rn(x1, sine));
      head[b] = __fadd_rn(__fmul_rn(x0, sine), __fmul_rn(x1, cosine));
    }
  }
}

__global__ void swiglu_kernel(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __fmul_rn(gate[i] / (1.0f + expf(-gate[i])), up[i]);
}

__global__ void geglu_kernel(const float* gate, const float* up, int64_t n, float* out) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = gate[i];
    const float inner = __fmul_rn(kSqrt2OverPi, __fadd_rn(v, __fmul_rn(__fmul_rn(__fmul_rn(0.044715f, v), v), v)));
    out[i] = __fmul_rn(__fmul_rn(__fmul_rn(0.5f, v), __fadd_rn(1.0f, tanhf(inner))), up[i]);
  }
}

__global__ void add_kernel(float* x, const float* y, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] += y[i];
}

// One block per id, threads over the row's elements.
template <TensorType Type>
__global__ void embed_kernel(const uint8_t* table, int64_t row_stride, int64_t rows, int64_t cols, const int32_t* ids,
                             float* out) {
  const int32_t id = ids[blockIdx.x];
  float* target = out + int64_t(blockIdx.x) * cols;
  const bool valid = id >= 0 && id < rows;
  const uint8_t* row = table + (valid ? id : 0) * row_stride;
  for (int64_t col = threadIdx.x; col < cols; col += blockDim.x)
    target[col] = valid ? row_element<Type>(row, col) : NAN;
}

}  // namespace

void cuda_rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps, float* out,
                   void* stream) {
  require(n_rows >= 0 && n_rows < (int64_t(1) << 31) && dim > 0, kFile, "rms_norm: bad shape");
  if (n_rows == 0) return;
  rms_norm_kernel<<<static_cast<unsigned>(n_rows), kThreads, 0, as_stream(stream)>>>(x, weight, dim, eps, out);
  PHIRUN_CUDA_CHECK_LAUNCH();
}

void cuda_rope(float* x, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t start_position,
               const RopeParams& params, void* stream) {
  require(params.rotary_dims >= 0 && params.rotary_dims % 2 == 0 && params.rotary_dims <= head_dim, kFile,
          "rope: rotary_dims must be even and at most head_dim");
  require(n_rows >= 0 && n_heads > 0 && start_position >= 0, kFile, "rope: bad shape");
  const int64_t tasks = n_rows * (params.rotary_dims / 2);
  if (tasks == 0) return;
  rope_kernel<<<grid_for(tasks, kThreads), kThreads, 0, as_stream(stream)>>>(x, n_rows, n_heads, head_dim,
                                                                             start_position, params);
  PHIRUN_CUDA_CHECK_LAUNCH();
}

void cuda_swiglu(const float* gate, const float* up, int64_t n, float* out, void* stream) {
  if (n <= 0) return;
  swiglu_kernel<<<grid_for(n, kThreads), kThreads, 0, as_stream(stream)>>>(gate, up, n, out);
  PHIRUN_CUDA_CHECK_LAUNCH();
}

void cuda_geglu(const float* gate, const float* up, int64_t n, float* out, void* stream) {
  if (n <= 0) return;
  geglu_kernel<<<grid_for(n, kThreads), kThreads, 0, as_stream(stream)>>>(gate, up, n, out);
  PHIRUN_CUDA_CHECK_LAUNCH();
}

void cuda_add(float* x, const float* y, int64_t n, void* stream) {
  if (n <= 0) return;
  add_kernel<<<grid_for(n, kThreads), kThreads, 0, as_stream(stream)>>>(x, y, n);
  PHIRUN_CUDA_CHECK_LAUNCH();
}

void cuda_embed(const MatrixView& table, const int32_t* ids, int64_t n_ids, float* out, void* stream) {
  check_matrix(table, kFile, "embedding table");
  require(n_ids >= 0 && n_ids < (int64_t(1) << 31), kFile, "embed: bad number of ids");
  if (n_ids == 0) return;
  const int64_t row_stride = row_stride_bytes(table.type, table.cols);
  const auto* bytes = static_cast<const uint8_t*>(table.data);
  dispatch_row_type(table.type, [&]<TensorType Type>() {
    embed_kernel<Type><<<static_cast<unsigned>(n_ids), kThreads, 0, as_stream(stream)>>>(bytes, row_stride, table.rows,
                                                                                         table.cols, ids, out);
  });
  PHIRUN_CUDA_CHECK_LAUNCH();
}

}  // namespace phirun
