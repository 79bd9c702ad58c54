// Causal grouped-query attention over the KV cache, and writes into the cache. One task per
// (query row, head) pair, split over the threads. The active variant's fused kernel runs when it
// handles the shape; else the reference: softmax in float with the max subtracted.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/quant/half.h"

namespace phirun {

namespace {

// Row `row` of head `kv_head` in a cache half (keys or values), converted to floats.
void load_cache_row(const KvLayerView& cache, const void* base, int64_t kv_head, int64_t row, float* out) {
  const int64_t index = (kv_head * cache.capacity + row) * cache.head_dim;
  if (cache.type == TensorType::F32) {
    std::memcpy(out, static_cast<const float*>(base) + index, size_t(cache.head_dim) * sizeof(float));
  } else {
    fp16_to_fp32_row(static_cast<const uint16_t*>(base) + index, out, cache.head_dim);
  }
}

void store_cache_row(const KvLayerView& cache, void* base, int64_t kv_head, int64_t row, const float* in) {
  const int64_t index = (kv_head * cache.capacity + row) * cache.head_dim;
  if (cache.type == TensorType::F32) {
    std::memcpy(static_cast<float*>(base) + index, in, size_t(cache.head_dim) * sizeof(float));
  } else {
    uint16_t* target = static_cast<uint16_t*>(base) + index;
    for (int64_t d = 0; d < cache.head_dim; ++d) target[d] = fp32_to_fp16(in[d]);
  }
}

}  // namespace

void CpuOps::store_kv(const KvLayerView& cache, const float* k, const float* v, int64_t n_rows,
                      int64_t start_position) {
  const int64_t row_width = cache.n_kv_heads * cache.head_dim;
  for (int64_t t = 0; t < n_rows; ++t) {
    for (int64_t h = 0; h < cache.n_kv_heads; ++h) {
      const int64_t row = (start_position + t) % cache.capacity;
      store_cache_row(cache, cache.keys, h, row, k + t * row_width + h * cache.head_dim);
      store_cache_row(cache, cache.values, h, row, v + t * row_width + h * cache.head_dim);
    }
  }
}

void CpuOps::attention(const float* q, int64_t n_rows, int64_t start_position, const KvLayerView& cache,
                       const AttentionParams& params, float* out) {
  if (op_kernels_ && op_kernels_->attention(q, start_position, cache, params, out, 0, 0)) {
    pool_.parallel_for(n_rows * params.n_heads, [&](int64_t begin, int64_t end) {
      op_kernels_->attention(q, start_position, cache, params, out, begin, end);
    });
    return;
  }
  const int64_t head_dim = params.head_dim;
  const int64_t heads_per_kv = params.n_heads / cache.n_kv_heads;
  pool_.parallel_for(n_rows * params.n_heads, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> scores, row, accumulator;
    thread_local std::vector<int64_t> rows;
    row.resize(size_t(head_dim));
    accumulator.resize(size_t(head_dim));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / params.n_heads, head = task % params.n_heads;
      const int64_t kv_head = head / heads_per_kv;
      // Causal, windowed: the rows of the attended positions, oldest first, gathered in a list.
      const AttendedRows runs = attended_rows(start_position + t, params.window, cache.capacity);
      rows.clear();
      for (int r = 0; r < runs.runs; ++r)
        for (int64_t i = 0; i < runs.count[r]; ++i) rows.push_back(runs.first[r] + i);
      const auto n_positions = int64_t(rows.size());
      const float* query = q + (t * params.n_heads + head) * head_dim;
      scores.resize(size_t(n_positions));
      float max_score = -INFINITY;
      for (int64_t p = 0; p < n_positions; ++p) {
        load_cache_row(cache, cache.keys, kv_head, rows[size_t(p)], row.data());
        scores[size_t(p)] = dot_f32(query, row.data(), head_dim) * params.scale;
        max_score = std::max(max_score, scores[size_t(p)]);
      }
      double total = 0.0;
      for (int64_t p = 0; p < n_positions; ++p) {
        scores[size_t(p)] = std::exp(scores[size_t(p)] - max_score);
        total += scores[size_t(p)];
      }
      std::fill(accumulator.begin(), accumulator.end(), 0.0f);
      for (int64_t p = 0; p < n_positions; ++p) {
        load_cache_row(cache, cache.values, kv_head, rows[size_t(p)], row.data());
        const float weight = scores[size_t(p)];
        for (int64_t d = 0; d < head_dim; ++d) accumulator[size_t(d)] += weight * row[size_t(d)];
      }
      float* result = out + (t * params.n_heads + head) * head_dim;
      const float inverse_total = float(1.0 / total);
      for (int64_t d = 0; d < head_dim; ++d) result[d] = accumulator[size_t(d)] * inverse_total;
    }
  });
}

}  // namespace phirun
