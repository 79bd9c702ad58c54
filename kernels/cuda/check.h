// Error checks for the .cu files: a failing CUDA runtime or cuBLAS call becomes one
// std::runtime_error naming the source file and line, the call and the library's message.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace phirun::cuda_detail {

[[noreturn]] inline void throw_cuda_error(const char* file, int line, const char* call, cudaError_t error) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " +
                           cudaGetErrorName(error) + ": " + cudaGetErrorString(error));
}

[[noreturn]] inline void throw_cublas_error(const char* file, int line, const char* call, cublasStatus_t status) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " +
                           cublasGetStatusName(status) + ": " + cublasGetStatusString(status));
}

}  // namespace phirun::cuda_detail

#define PHIRUN_CUDA_CHECK(call)                                                              \
  do {                                                                                       \
    const cudaError_t phirun_cuda_error = (call);                                            \
    if (phirun_cuda_error != cudaSuccess)                                                    \
      ::phirun::cuda_detail::throw_cuda_error(__FILE__, __LINE__, #call, phirun_cuda_error); \
  } while (0)

#define PHIRUN_CUBLAS_CHECK(call)                                                                 \
  do {                                                                                            \
    const cublasStatus_t phirun_cublas_status = (call);                                           \
    if (phirun_cublas_status != CUBLAS_STATUS_SUCCESS)                                            \
      ::phirun::cuda_detail::throw_cublas_error(__FILE__, __LINE__, #call, phirun_cublas_status); \
  } while (0)

// After a kernel launch: a bad launch configuration is reported at once, not at the next sync.
#define PHIRUN_CUDA_CHECK_LAUNCH() PHIRUN_CUDA_CHECK(cudaGetLastError())
