// Row-wise ops of the forward pass: RMSNorm, RoPE, SwiGLU, GeGLU, residual add.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace phirun {

void CpuOps::rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t dim, float eps, float* out) {
  if (op_kernels_) {
    const RmsNormKernel kernel = op_kernels_->rms_norm;
    if (n_rows < 8) {
      for (int64_t t = 0; t < n_rows; ++t) kernel(x + t * dim, weight, dim, eps, out + t * dim);
    } else {
      pool_.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) kernel(x + t * dim, weight, dim, eps, out + t * dim);
      });
    }
    return;
  }
  for (int64_t t = 0; t < n_rows; ++t) {
    const float* row = x + t * dim;
    double sum_squares = 0.0;  // double: dim can be thousands of values of mixed magnitude
    for (int64_t i = 0; i < dim; ++i) sum_squares += double(row[i]) * row[i];
    const float inverse_rms = float(1.0 / std::sqrt(sum_squares / double(dim) + double(eps)));
    for (int64_t i = 0; i < dim; ++i) out[t * dim + i] = row[i] * inverse_rms * weight[i];
  }
}

// Frequencies are computed as Hugging Face does (inverse frequency and angle in float32), so
// positions far into the context agree with the reference to float rounding.
void rope_angles_ref(int64_t position, const RopeParams& params, float* cosines, float* sines) {
  for (int64_t i = 0; i < params.rotary_dims / 2; ++i) {
    const float exponent = float(2 * i) / float(params.rotary_dims);
    // With LongRoPE factors, transformers divides in float32: 1 / (factor * theta^exponent).
    const float inverse_frequency =
        params.frequency_factors
            ? 1.0f / (params.frequency_factors[i] * float(std::pow(double(params.theta), double(exponent))))
            : float(1.0 / std::pow(double(params.theta), double(exponent)));
    const float angle = float(position) * inverse_frequency;
    cosines[i] = float(std::cos(double(angle))) * params.attention_factor;
    sines[i] = float(std::sin(double(angle))) * params.attention_factor;
  }
}

void rope_head_ref(float* head, const float* cosines, const float* sines, const RopeParams& params) {
  // Dims past rotary_dims pass through unchanged (partial rotary).
  const int64_t half = params.rotary_dims / 2;
  const bool adjacent = params.pairing == RopePairing::Adjacent;
  for (int64_t i = 0; i < half; ++i) {
    const int64_t a = adjacent ? 2 * i : i;
    const int64_t b = adjacent ? 2 * i + 1 : i + half;
    const float x0 = head[a], x1 = head[b];
    head[a] = x0 * cosines[i] - x1 * sines[i];
    head[b] = x0 * sines[i] + x1 * cosines[i];
  }
}

void CpuOps::rope(float* x, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t start_position,
                  const RopeParams& params) {
  // Every layer rotates Q and K at the same positions: compute the angles once per forward step.
  const int64_t half = params.rotary_dims / 2;
  if (rope_table_.start_position != start_position || rope_table_.n_rows < n_rows ||
      rope_table_.theta != params.theta || rope_table_.rotary_dims != params.rotary_dims ||
      rope_table_.frequency_factors != params.frequency_factors ||
      rope_table_.attention_factor != params.attention_factor) {
    rope_table_.cosines.resize(size_t(n_rows * half));
    rope_table_.sines.resize(size_t(n_rows * half));
    for (int64_t t = 0; t < n_rows; ++t)
      rope_angles_ref(start_position + t, params, &rope_table_.cosines[size_t(t * half)],
                      &rope_table_.sines[size_t(t * half)]);
    rope_table_ = {start_position,
                   n_rows,
                   params.theta,
                   params.rotary_dims,
                   params.frequency_factors,
                   params.attention_factor,
                   std::move(rope_table_.cosines),
                   std::move(rope_table_.sines)};
  }
  for (int64_t t = 0; t < n_rows; ++t)
    for (int64_t h = 0; h < n_heads; ++h)
      rope_head_ref(x + (t * n_heads + h) * head_dim, &rope_table_.cosines[size_t(t * half)],
                    &rope_table_.sines[size_t(t * half)], params);
}

void CpuOps::swiglu(const float* gate, const float* up, int64_t n, float* out) {
  if (op_kernels_) {
    // Split in multiples of 16 so that every element takes the same (vector) path.
    const int64_t chunks = (n + 15) / 16;
    if (chunks < 256) return op_kernels_->swiglu(gate, up, n, out);
    pool_.parallel_for(chunks, [&](int64_t begin, int64_t end) {
      const int64_t first = 16 * begin, last = std::min(n, 16 * end);
      op_kernels_->swiglu(gate + first, up + first, last - first, out + first);
    });
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

// The scalar reference computes as torch's gelu(approximate="tanh") does; the SIMD variants use
// the exp form (kernels/cpu/elementwise/elementwise.h).
void CpuOps::geglu(const float* gate, const float* up, int64_t n, float* out) {
  if (op_kernels_) {
    const int64_t chunks = (n + 15) / 16;  // multiples of 16: every element takes the vector path
    if (chunks < 256) return op_kernels_->geglu(gate, up, n, out);
    pool_.parallel_for(chunks, [&](int64_t begin, int64_t end) {
      const int64_t first = 16 * begin, last = std::min(n, 16 * end);
      op_kernels_->geglu(gate + first, up + first, last - first, out + first);
    });
    return;
  }
  auto run = [&](int64_t first, int64_t last) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    for (int64_t i = first; i < last; ++i) {
      const float x = gate[i];
      out[i] = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x))) * up[i];
    }
  };
  const int64_t chunks = (n + 255) / 256;
  if (chunks < 16) return run(0, n);
  pool_.parallel_for(chunks, [&](int64_t begin, int64_t end) { run(256 * begin, std::min(n, 256 * end)); });
}

void CpuOps::add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace phirun
