// The table of the forward pass's other ops for one instruction-set variant: fused attention
// over an F16 KV cache, RMSNorm, SwiGLU, GeGLU, and the read-bandwidth probe's stream. nullptr
// entries fall back to the references.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/ops.h"

namespace phirun {

// Computes the (query row, head) tasks [task_begin, task_end) of CpuOps::attention (task =
// row * n_heads + head). Returns false, computing nothing, when it does not handle the shape
// (a head_dim other than 64, 96 or 128, or an F32 cache).
using AttentionKernel = bool (*)(const float* q, int64_t start_position, const KvLayerView& cache,
                                 const AttentionParams& params, float* out, int64_t task_begin, int64_t task_end);
using RmsNormKernel = void (*)(const float* x, const float* weight, int64_t dim, float eps, float* out);
using SwigluKernel = void (*)(const float* gate, const float* up, int64_t n, float* out);
// The sum of n floats, read as a stream (the read-bandwidth probe's loop, read_probe.h).
using StreamSumKernel = float (*)(const float* x, int64_t n);

struct OpKernels {
  AttentionKernel attention = nullptr;
  RmsNormKernel rms_norm = nullptr;  // one row
  SwigluKernel swiglu = nullptr;
  SwigluKernel geglu = nullptr;  // gelu_tanh(gate) * up: the same signature
  StreamSumKernel stream_sum = nullptr;
};

const OpKernels* op_kernels(Isa isa);  // nullptr for Scalar

OpKernels op_kernels_avx2();
OpKernels op_kernels_avx512();
OpKernels op_kernels_neon();

}  // namespace phirun
