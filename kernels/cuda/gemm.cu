// Prefill GEMM through cuBLAS. cuBLAS is column-major: our row-major W [rows][cols] is its
// column-major cols x rows matrix, so y^T = op_T(W) x^T, with x [n_rows][cols] read as the
// column-major cols x n_rows matrix and y [n_rows][rows] written as column-major rows x n_rows.
#include "kernels/cuda/check.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.h"

namespace phirun {
namespace {

using namespace cuda_detail;

constexpr int kThreads = 256;
constexpr const char* kFile = "kernels/cuda/gemm.cu";

template <TensorType Type>
__global__ void dequantize_to_f16_kernel(const uint8_t* weight, int64_t row_stride, int64_t rows, int64_t cols,
                                         __half* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * cols;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / cols, col = i % cols;
    out[i] = __float2half_rn(row_element<Type>(weight + row * row_stride, col));
  }
}

__global__ void f32_to_f16_kernel(const float* in, int64_t n, __half* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __float2half_rn(in[i]);
}

__global__ void f32_to_bf16_kernel(const float* in, int64_t n, __nv_bfloat16* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(in[i]);
}

cublasHandle_t as_handle(void* handle) { return static_cast<cublasHandle_t>(handle); }

}  // namespace

void cuda_dequantize_to_f16(const MatrixView& weight, uint16_t* out, void* stream) {
  check_matrix(weight, kFile, "dequantize weight");
  const int64_t row_stride = row_stride_bytes(weight.type, weight.cols);
  const auto* bytes = static_cast<const uint8_t*>(weight.data);
  auto* target = reinterpret_cast<__half*>(out);
  dispatch_row_type(weight.type, [&]<TensorType Type>() {
    dequantize_to_f16_kernel<Type><<<grid_for(weight.rows * weight.cols, kThreads), kThreads, 0, as_stream(stream)>>>(
        bytes, row_stride, weight.rows, weight.cols, target);
  });
  PHIRUN_CUDA_CHECK_LAUNCH();
}

CudaGemm::CudaGemm() {
  cublasHandle_t handle = nullptr;
  PHIRUN_CUBLAS_CHECK(cublasCreate(&handle));
  handle_ = handle;
}

CudaGemm::~CudaGemm() {
  if (handle_) (void)cublasDestroy(as_handle(handle_));
}

void CudaGemm::matmul(const MatrixView& weight, const float* x, int64_t n_rows, float* y, void* stream) {
  check_matrix(weight, kFile, "gemm weight");
  require(n_rows > 0 && x != nullptr && y != nullptr, kFile, "gemm: no activations");
  constexpr int64_t kIntMax = 2147483647;
  require(weight.rows <= kIntMax && weight.cols <= kIntMax && n_rows <= kIntMax, kFile,
          "gemm: a dimension is past cuBLAS's 32-bit sizes");
  const int m = int(weight.rows), n = int(n_rows), k = int(weight.cols);
  cublasHandle_t handle = as_handle(handle_);
  PHIRUN_CUBLAS_CHECK(cublasSetStream(handle, as_stream(stream)));

  const void* a = weight.data;  // W as cuBLAS reads it
  const void* b = x;            // the activations likewise
  cudaDataType_t input_type = CUDA_R_32F;
  const int64_t n_activations = n_rows * weight.cols;
  if (weight.type == TensorType::BF16) {
    input_type = CUDA_R_16BF;
    activations_16bit_.reserve(size_t(n_activations) * 2);
    f32_to_bf16_kernel<<<grid_for(n_activations, kThreads), kThreads, 0, as_stream(stream)>>>(
        x, n_activations, activations_16bit_.as<__nv_bfloat16>());
    PHIRUN_CUDA_CHECK_LAUNCH();
    b = activations_16bit_.data();
  } else if (weight.type != TensorType::F32) {
    input_type = CUDA_R_16F;
    if (weight.type != TensorType::F16) {
      weight_16bit_.reserve(size_t(weight.rows * weight.cols) * 2);
      cuda_dequantize_to_f16(weight, weight_16bit_.as<uint16_t>(), stream);
      a = weight_16bit_.data();
    }
    activations_16bit_.reserve(size_t(n_activations) * 2);
    f32_to_f16_kernel<<<grid_for(n_activations, kThreads), kThreads, 0, as_stream(stream)>>>(
        x, n_activations, activations_16bit_.as<__half>());
    PHIRUN_CUDA_CHECK_LAUNCH();
    b = activations_16bit_.data();
  }
  const float alpha = 1.0f, beta = 0.0f;
  PHIRUN_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, a, input_type, k, b, input_type,
                                   k, &beta, y, CUDA_R_32F, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace phirun
