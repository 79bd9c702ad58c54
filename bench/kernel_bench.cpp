// Google Benchmark of every matmul kernel family and variant (scalar reference, AVX2, AVX-512,
// AVX-512 VNNI, NEON where built) with float and int8 activations, at the shapes of
// Phi-3.5-mini and SmolLM2, for decode (1 activation row) and prefill (512 rows), at 1 and 2
// threads, through CpuOps (activation quantization and thread split included). Counters: GB/s of
// weights read, GFLOP/s, and the fraction of this machine's peak that bounds the case (read
// bandwidth for decode; FMA or int8-dot throughput for prefill), measured at start-up.
//   build/bench/phirun_bench --benchmark_filter='phirun/avx512vnni/Q4_0/.*phi35_o/rows:1/'
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "bench/bench_common.h"
#include "kernels/cpu/cpu_ops.h"

namespace phirun::bench {

namespace {

struct PreparedMatrix {
  std::vector<uint8_t> file_bytes;
  WeightBuffer packed_storage;
  MatrixView row_major, packed;
};

// One matrix at a time (the largest are hundreds of MB): rebuilt when the shape or type changes.
PreparedMatrix& matrix_for(TensorType type, int64_t rows, int64_t cols) {
  static std::tuple<TensorType, int64_t, int64_t> key{TensorType::F32, -1, -1};
  static PreparedMatrix matrix;
  if (key != std::tuple{type, rows, cols}) {
    matrix = PreparedMatrix{};
    matrix.file_bytes = random_weights(type, rows, cols);
    matrix.row_major = {type, rows, cols, matrix.file_bytes.data()};
    force_isa(supported_isas().back());  // repacking needs a SIMD variant active
    matrix.packed = cpu_prepare_weight(matrix.row_major, matrix.packed_storage);
    key = {type, rows, cols};
  }
  return matrix;
}

ThreadPool& pool_of(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& pool = pools[threads];
  if (!pool) pool = std::make_unique<ThreadPool>(threads);
  return *pool;
}

void bench_matmul(benchmark::State& state, Isa isa, TensorType type, ActivationPrecision precision, Shape shape,
                  int64_t n, int threads) {
  PreparedMatrix& matrix = matrix_for(type, shape.rows, shape.cols);
  force_isa(isa);
  CpuOps ops(pool_of(threads), precision);
  const MatrixView& weight = isa == Isa::Scalar ? matrix.row_major : matrix.packed;
  const std::vector<float> x = random_activations(n * shape.cols);
  std::vector<float> y(static_cast<size_t>(n * shape.rows));
  for (auto _ : state) {
    ops.matmul(weight, x.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  const MachinePeaks& peaks = machine_peaks();
  const double bytes = double(matrix.file_bytes.size());
  const double flops = 2.0 * double(shape.rows) * double(shape.cols) * double(n);
  const int t = threads >= 2 ? 1 : 0;
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  const bool int8 = precision == ActivationPrecision::Int8 && type_traits(type).block_elements == 32;
  const double peak = n == 1 ? peaks.read_gb_per_s[t] : (int8 ? peaks.int8_gop_per_s[t] : peaks.fma_gflop_per_s[t]);
  const double work = n == 1 ? bytes / 1e9 : flops / 1e9;
  state.counters["of_peak"] = benchmark::Counter(work / peak, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  for (Isa isa : supported_isas()) {
    for (TensorType type :
         {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0, TensorType::F16, TensorType::BF16, TensorType::F32}) {
      const bool blocked = type_traits(type).block_elements == 32;
      for (ActivationPrecision precision : {ActivationPrecision::Float, ActivationPrecision::Int8}) {
        if (!blocked && precision == ActivationPrecision::Int8) continue;
        for (const Shape& shape : shapes()) {
          // The scalar reference at prefill size takes minutes per call: decode shapes only.
          for (int64_t n : isa == Isa::Scalar ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 512}) {
            for (int threads : {1, 2}) {
              const std::string name = "phirun/" + std::string(isa_name(isa)) + "/" + std::string(type_name(type)) +
                                       "/" + (precision == ActivationPrecision::Int8 ? "int8" : "float") + "/" +
                                       shape.model + "_" + shape.name + "/rows:" + std::to_string(n) +
                                       "/threads:" + std::to_string(threads);
              benchmark::RegisterBenchmark(name.c_str(), bench_matmul, isa, type, precision, shape, n, threads)
                  ->Unit(benchmark::kMicrosecond)
                  ->UseRealTime();
            }
          }
        }
      }
    }
  }
}

}  // namespace

void register_onednn_benchmarks();  // onednn_bench.cpp, when oneDNN is found

}  // namespace phirun::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  phirun::bench::register_all();
  phirun::bench::register_onednn_benchmarks();
  const phirun::bench::MachinePeaks& peaks = phirun::bench::machine_peaks();
  benchmark::AddCustomContext("read_GB/s_1t_2t",
                              std::to_string(peaks.read_gb_per_s[0]) + " " + std::to_string(peaks.read_gb_per_s[1]));
  benchmark::AddCustomContext(
      "fma_GFLOP/s_1t_2t", std::to_string(peaks.fma_gflop_per_s[0]) + " " + std::to_string(peaks.fma_gflop_per_s[1]));
  benchmark::AddCustomContext("int8_GOP/s_1t_2t",
                              std::to_string(peaks.int8_gop_per_s[0]) + " " + std::to_string(peaks.int8_gop_per_s[1]));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
