// Fused causal attention over an F16 KV cache, one (query row, head) at a time, written once
// against a SIMD primitive set V: positions are taken in chunks of 64, their scores kept in a
// 64-float buffer, and the softmax is computed online (running maximum and sum, the output
// rescaled when the maximum grows), so no score matrix is materialized however long the context.
// Internal linkage: see simd/avx512.h.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/op_kernels.h"

namespace phirun {
namespace {

constexpr int64_t kAttentionChunk = 64;

// The online-softmax state of one query, carried from one run of cache rows to the next.
template <class V, int kVectors>
struct OnlineSoftmax {
  typename V::F q[kVectors], acc[kVectors];
  float running_max = -INFINITY, total = 0.0f;
};

// Folds the cache rows [0, n_positions) of `keys` and `values` into the state.
template <class V, int kVectors>
void attend_run(OnlineSoftmax<V, kVectors>& state, int64_t n_positions, const uint8_t* keys, const uint8_t* values) {
  using F = typename V::F;
  constexpr int64_t kRowBytes = 2 * 16 * kVectors;  // one cached row of F16
  F* q = state.q;
  F* acc = state.acc;
  float& running_max = state.running_max;
  float& total = state.total;
  alignas(64) float scores[kAttentionChunk];
  for (int64_t p0 = 0; p0 < n_positions; p0 += kAttentionChunk) {
    const int64_t n = std::min(kAttentionChunk, n_positions - p0);
    auto key_products = [&](int64_t j) {  // per lane partial sums of q · key j
      const uint8_t* key = keys + (p0 + j) * kRowBytes;
      F s = V::mul(q[0], V::load_f16(key));
      for (int i = 1; i < kVectors; ++i) s = V::fma(q[i], V::load_f16(key + 32 * i), s);
      return s;
    };
    float chunk_max = -INFINITY;
    if constexpr (requires(const F* v) { V::sum16(v); }) {
      // 16 keys at a time, their sums reduced together; missing keys of the last group are zeros
      // (never read past the cache), their scores overwritten by -inf below.
      for (int64_t j0 = 0; j0 < n; j0 += 16) {
        F products[16];
        if (j0 + 16 <= n) {
          for (int j = 0; j < 16; ++j) products[j] = key_products(j0 + j);
        } else {
          for (int j = 0; j < 16; ++j) products[j] = j0 + j < n ? key_products(j0 + j) : V::zero();
        }
        V::store(scores + j0, V::sum16(products));
      }
      for (int64_t j = n; j < (n + 15) / 16 * 16; ++j) scores[j] = -INFINITY;
      F maxima = V::loadu(scores);
      for (int64_t j = 16; j < n; j += 16) maxima = V::max(maxima, V::loadu(scores + j));
      chunk_max = V::reduce_max(maxima);
    } else {
      for (int64_t j = 0; j < n; ++j) {
        scores[j] = V::reduce_add(key_products(j));
        chunk_max = std::max(chunk_max, scores[j]);
      }
    }
    const float new_max = std::max(running_max, chunk_max);
    if (new_max > running_max && running_max != -INFINITY) {
      const float correction = std::exp(running_max - new_max);
      total *= correction;
      for (int i = 0; i < kVectors; ++i) acc[i] = V::mul(acc[i], V::splatf(correction));
    }
    running_max = new_max;
    for (int64_t j = n; j < (n + 15) / 16 * 16; ++j) scores[j] = -INFINITY;
    for (int64_t j = 0; j < n; j += 16) V::store(scores + j, V::exp(V::add(V::loadu(scores + j), V::splatf(-new_max))));
    // The chunk's weights summed as vectors, then its values in two interleaved accumulator sets
    // (even and odd positions): one set alone waits on the FMA latency at every position.
    F weights = V::zero();
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) weights = V::add(weights, V::loadu(scores + j));
    float chunk_total = V::reduce_add(weights);
    for (; j < n; ++j) chunk_total += scores[j];
    total += chunk_total;
    F odd[kVectors];
    for (int i = 0; i < kVectors; ++i) odd[i] = V::zero();
    auto add_value = [&](F* into, int64_t position) {
      const F weight = V::splatf(scores[position]);
      const uint8_t* value = values + (p0 + position) * kRowBytes;
      for (int i = 0; i < kVectors; ++i) into[i] = V::fma(weight, V::load_f16(value + 32 * i), into[i]);
    };
    for (j = 0; j + 2 <= n; j += 2) {
      add_value(acc, j);
      add_value(odd, j + 1);
    }
    if (j < n) add_value(acc, j);
    for (int i = 0; i < kVectors; ++i) acc[i] = V::add(acc[i], odd[i]);
  }
}

// One query over the attended rows (one or two runs of a ring).
template <class V, int kVectors>
void attend_one(const float* query, const AttendedRows& runs, const uint8_t* keys, const uint8_t* values, float scale,
                float* out) {
  using F = typename V::F;
  constexpr int64_t kRowBytes = 2 * 16 * kVectors;
  OnlineSoftmax<V, kVectors> state;
  for (int i = 0; i < kVectors; ++i) {
    state.q[i] = V::mul(V::loadu(query + 16 * i), V::splatf(scale));
    state.acc[i] = V::zero();
  }
  for (int r = 0; r < runs.runs; ++r)
    attend_run<V, kVectors>(state, runs.count[r], keys + runs.first[r] * kRowBytes, values + runs.first[r] * kRowBytes);
  const float total = state.total;
  F* acc = state.acc;
  const F inverse = V::splatf(1.0f / total);
  for (int i = 0; i < kVectors; ++i) V::store(out + 16 * i, V::mul(acc[i], inverse));
}

template <class V, int kVectors>
void attend_tasks(const float* q, int64_t start_position, const KvLayerView& cache, const AttentionParams& params,
                  float* out, int64_t task_begin, int64_t task_end) {
  const int64_t head_dim = params.head_dim;
  const int64_t heads_per_kv = params.n_heads / cache.n_kv_heads;
  for (int64_t task = task_begin; task < task_end; ++task) {
    const int64_t t = task / params.n_heads, head = task % params.n_heads;
    const int64_t kv_head = head / heads_per_kv;
    const int64_t offset = kv_head * cache.capacity * head_dim * 2;
    attend_one<V, kVectors>(q + task * head_dim, attended_rows(start_position + t, params.window, cache.capacity),
                            static_cast<const uint8_t*>(cache.keys) + offset,
                            static_cast<const uint8_t*>(cache.values) + offset, params.scale, out + task * head_dim);
  }
}

template <class V>
bool fused_attention(const float* q, int64_t start_position, const KvLayerView& cache, const AttentionParams& params,
                     float* out, int64_t task_begin, int64_t task_end) {
  if (cache.type != TensorType::F16) return false;
  switch (params.head_dim) {
    case 64:
      attend_tasks<V, 4>(q, start_position, cache, params, out, task_begin, task_end);
      return true;
    case 96:
      attend_tasks<V, 6>(q, start_position, cache, params, out, task_begin, task_end);
      return true;
    case 128:
      attend_tasks<V, 8>(q, start_position, cache, params, out, task_begin, task_end);
      return true;
    default:
      return false;
  }
}

}  // namespace
}  // namespace phirun
