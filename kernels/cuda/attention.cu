// Decode attention over the KV cache, flash-decoding style: the attended positions of each
// (query row, head) are split into chunks of kChunk, one thread block per chunk computes the
// chunk's scores, their max, the sum of exp(score - max) and the weighted sum of values; a second
// kernel merges the chunks' partial results with the online-softmax rescaling. No score matrix
// larger than one chunk exists anywhere. Also the cache writes (F32 or F16, rounded to nearest).
#include <cfloat>

#include "kernels/cuda/check.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.h"

namespace phirun {
namespace {

using namespace cuda_detail;

constexpr const char* kFile = "kernels/cuda/attention.cu";
constexpr int kChunk = 256;       // positions per block
constexpr int kThreads = 128;     // four warps
constexpr int kMaxHeadDim = 256;  // each thread owns head_dim / kThreads accumulator dims

struct DeviceCache {
  bool f16 = true;
  int64_t capacity = 0, head_dim = 0;
  const void* keys = nullptr;
  const void* values = nullptr;
};

__device__ __forceinline__ float cache_value(const DeviceCache& cache, const void* base, int64_t kv_head, int64_t row,
                                             int64_t d) {
  const int64_t index = (kv_head * cache.capacity + row) * cache.head_dim + d;
  return cache.f16 ? half_bits_to_float(static_cast<const uint16_t*>(base)[index])
                   : static_cast<const float*>(base)[index];
}

// attended_rows (kernels/ops.h) on the device: the oldest attended position and how many.
__device__ __forceinline__ void attended_span(int64_t position, int64_t window, int64_t* oldest, int64_t* count) {
  *oldest = window > 0 && position - window + 1 > 0 ? position - window + 1 : 0;
  *count = position - *oldest + 1;
}

struct Partial {  // per (row, head, chunk): followed in memory by head_dim accumulator floats
  float max_score;
  float sum_weights;
};

// Grid: (chunks, n_heads, n_rows). Partials are [n_rows][n_heads][chunks] of (2 + head_dim) floats.
__global__ void attention_chunk_kernel(const float* q, int64_t start_position, DeviceCache cache, int64_t n_heads,
                                       int64_t heads_per_kv, float scale, int64_t window, float* partials) {
  const int64_t chunk = blockIdx.x, head = blockIdx.y, t = blockIdx.z;
  const int64_t n_chunks = gridDim.x, head_dim = cache.head_dim;
  float* partial = partials + ((t * n_heads + head) * n_chunks + chunk) * (2 + head_dim);
  int64_t oldest, count;
  attended_span(start_position + t, window, &oldest, &count);
  const int64_t first = chunk * kChunk;
  const int64_t in_chunk = count - first < kChunk ? count - first : kChunk;
  if (in_chunk <= 0) {  // this row attends fewer positions than the longest row: an empty part
    if (threadIdx.x == 0) partial[0] = -FLT_MAX, partial[1] = 0.0f;
    for (int64_t d = threadIdx.x; d < head_dim; d += kThreads) partial[2 + d] = 0.0f;
    return;
  }
  const int64_t kv_head = head / heads_per_kv;
  const float* query = q + (t * n_heads + head) * head_dim;
  __shared__ float scores[kChunk];
  __shared__ float reduction[kThreads / 32];
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  // Scores: one warp per position, lanes over the head's dims.
  for (int64_t i = warp; i < in_chunk; i += kThreads / 32) {
    const int64_t row = (oldest + first + i) % cache.capacity;
    float dot = 0.0f;
    for (int64_t d = lane; d < head_dim; d += 32) dot += query[d] * cache_value(cache, cache.keys, kv_head, row, d);
    for (int offset = 16; offset > 0; offset /= 2) dot += __shfl_down_sync(0xffffffffu, dot, offset);
    if (lane == 0) scores[i] = dot * scale;
  }
  __syncthreads();
  // The chunk's max score.
  float local_max = -FLT_MAX;
  for (int64_t i = threadIdx.x; i < in_chunk; i += kThreads) local_max = fmaxf(local_max, scores[i]);
  for (int offset = 16; offset > 0; offset /= 2)
    local_max = fmaxf(local_max, __shfl_down_sync(0xffffffffu, local_max, offset));
  if (lane == 0) reduction[warp] = local_max;
  __syncthreads();
  float chunk_max = reduction[0];
  for (int w = 1; w < kThreads / 32; ++w) chunk_max = fmaxf(chunk_max, reduction[w]);
  __syncthreads();  // every thread has read `reduction` before it is reused below
  // Weights exp(score - max) in place, and their sum.
  float local_sum = 0.0f;
  for (int64_t i = threadIdx.x; i < in_chunk; i += kThreads) {
    const float weight = expf(scores[i] - chunk_max);
    scores[i] = weight;
    local_sum += weight;
  }
  for (int offset = 16; offset > 0; offset /= 2) local_sum += __shfl_down_sync(0xffffffffu, local_sum, offset);
  if (lane == 0) reduction[warp] = local_sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w) total += reduction[w];
    partial[0] = chunk_max;
    partial[1] = total;
  }
  // Weighted values: each thread owns dims threadIdx.x, threadIdx.x + kThreads.
  for (int64_t d = threadIdx.x; d < head_dim; d += kThreads) {
    float accumulator = 0.0f;
    for (int64_t i = 0; i < in_chunk; ++i) {
      const int64_t row = (oldest + first + i) % cache.capacity;
      accumulator += scores[i] * cache_value(cache, cache.values, kv_head, row, d);
    }
    partial[2 + d] = accumulator;
  }
}

// Grid: (n_heads, n_rows); threads over head_dim. out = Σ_c acc_c e^(m_c - M) / Σ_c s_c e^(m_c - M).
__global__ void attention_merge_kernel(const float* partials, int64_t n_chunks, int64_t n_heads, int64_t head_dim,
                                       float* out) {
  const int64_t head = blockIdx.x, t = blockIdx.y;
  const float* parts = partials + (t * n_heads + head) * n_chunks * (2 + head_dim);
  float global_max = -FLT_MAX;
  for (int64_t c = 0; c < n_chunks; ++c) global_max = fmaxf(global_max, parts[c * (2 + head_dim)]);
  float total = 0.0f;
  for (int64_t c = 0; c < n_chunks; ++c) {
    const float* part = parts + c * (2 + head_dim);
    if (part[1] > 0.0f) total += part[1] * expf(part[0] - global_max);
  }
  for (int64_t d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float sum = 0.0f;
    for (int64_t c = 0; c < n_chunks; ++c) {
      const float* part = parts + c * (2 + head_dim);
      if (part[1] > 0.0f) sum += part[2 + d] * expf(part[0] - global_max);
    }
    out[(t * n_heads + head) * head_dim + d] = sum / total;
  }
}

__global__ void store_kv_kernel(DeviceCache cache, void* keys, void* values, const float* k, const float* v,
                                int64_t n_rows, int64_t n_kv_heads, int64_t start_position) {
  const int64_t row_width = n_kv_heads * cache.head_dim;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n_rows * row_width;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / row_width, h = i % row_width / cache.head_dim, d = i % cache.head_dim;
    const int64_t index = (h * cache.capacity + (start_position + t) % cache.capacity) * cache.head_dim + d;
    if (cache.f16) {
      static_cast<__half*>(keys)[index] = __float2half_rn(k[i]);
      static_cast<__half*>(values)[index] = __float2half_rn(v[i]);
    } else {
      static_cast<float*>(keys)[index] = k[i];
      static_cast<float*>(values)[index] = v[i];
    }
  }
}

DeviceCache device_cache(const KvLayerView& cache) {
  require(cache.type == TensorType::F16 || cache.type == TensorType::F32, kFile, "the KV cache must be F16 or F32");
  require(cache.n_kv_heads > 0 && cache.capacity > 0 && cache.head_dim > 0 && cache.keys && cache.values, kFile,
          "empty KV cache");
  return {cache.type == TensorType::F16, cache.capacity, cache.head_dim, cache.keys, cache.values};
}

}  // namespace

void cuda_store_kv(const KvLayerView& cache, const float* k, const float* v, int64_t n_rows, int64_t start_position,
                   void* stream) {
  const DeviceCache device = device_cache(cache);
  require(n_rows >= 0 && start_position >= 0, kFile, "store_kv: bad rows");
  const int64_t n = n_rows * cache.n_kv_heads * cache.head_dim;
  if (n == 0) return;
  store_kv_kernel<<<grid_for(n, 256), 256, 0, as_stream(stream)>>>(device, cache.keys, cache.values, k, v, n_rows,
                                                                   cache.n_kv_heads, start_position);
  PHIRUN_CUDA_CHECK_LAUNCH();
}

void CudaAttention::attention(const float* q, int64_t n_rows, int64_t start_position, const KvLayerView& cache,
                              const AttentionParams& params, float* out, void* stream) {
  const DeviceCache device = device_cache(cache);
  require(params.head_dim == cache.head_dim && params.head_dim <= kMaxHeadDim, kFile,
          "attention: head_dim must match the cache and be at most 256");
  require(params.n_heads > 0 && params.n_heads % cache.n_kv_heads == 0, kFile,
          "attention: the query heads must be a multiple of the KV heads");
  require(n_rows > 0 && n_rows < 65536 && params.n_heads < 65536 && start_position >= 0, kFile, "attention: bad shape");
  // The longest row (the last) decides the chunk count; its positions must still be cached.
  const int64_t last = start_position + n_rows - 1;
  const int64_t longest = params.window > 0 && params.window < last + 1 ? params.window : last + 1;
  require(longest <= cache.capacity, kFile, "attention: the cache no longer holds every attended position");
  const int64_t n_chunks = (longest + kChunk - 1) / kChunk;
  const int64_t partial_floats = n_rows * params.n_heads * n_chunks * (2 + params.head_dim);
  partials_.reserve(size_t(partial_floats) * sizeof(float));
  const dim3 chunk_grid(static_cast<unsigned>(n_chunks), static_cast<unsigned>(params.n_heads),
                        static_cast<unsigned>(n_rows));
  attention_chunk_kernel<<<chunk_grid, kThreads, 0, as_stream(stream)>>>(
      q, start_position, device, params.n_heads, params.n_heads / cache.n_kv_heads, params.scale, params.window,
      partials_.as<float>());
  PHIRUN_CUDA_CHECK_LAUNCH();
  const dim3 merge_grid(static_cast<unsigned>(params.n_heads), static_cast<unsigned>(n_rows));
  attention_merge_kernel<<<merge_grid, kThreads, 0, as_stream(stream)>>>(partials_.as<float>(), n_chunks,
                                                                         params.n_heads, params.head_dim, out);
  PHIRUN_CUDA_CHECK_LAUNCH();
}

}  // namespace phirun
