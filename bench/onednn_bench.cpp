// oneDNN's matmul at the same shapes, as the baseline of the F32, BF16 and INT8 GEMMs: src
// [n][K] times weights [K][N] into F32, one primitive created per case (outside the timed loop),
// oneDNN's own threading (set OMP_NUM_THREADS / the threads suffix via dnnl's runtime).
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "bench/bench_common.h"

#if defined(PHIRUN_HAVE_ONEDNN)
#include <dnnl.hpp>

namespace phirun::bench {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

void bench_onednn(benchmark::State& state, dt src_type, dt weight_type, Shape shape, int64_t n) {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc src_md({n, shape.cols}, src_type, tag::ab);
  const dnnl::memory::desc weight_md({shape.cols, shape.rows}, weight_type, tag::any);
  const dnnl::memory::desc dst_md({n, shape.rows}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, weight_md, dst_md), engine);  // oneDNN 2.x
  dnnl::memory src(pd.src_desc(), engine), weights(pd.weights_desc(), engine), dst(pd.dst_desc(), engine);
  std::memset(src.get_data_handle(), 1, pd.src_desc().get_size());
  std::memset(weights.get_data_handle(), 1, pd.weights_desc().get_size());
  const dnnl::matmul matmul(pd);
  for (auto _ : state) {
    matmul.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
    stream.wait();
  }
  const double bytes = double(pd.weights_desc().get_size());
  const double flops = 2.0 * double(shape.rows) * double(shape.cols) * double(n);
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

void register_onednn_benchmarks() {
  struct Kind {
    const char* name;
    dt src, weights;
  };
  for (const Kind& kind :
       {Kind{"F32", dt::f32, dt::f32}, Kind{"BF16", dt::bf16, dt::bf16}, Kind{"INT8", dt::u8, dt::s8}})
    for (const Shape& shape : shapes())
      for (int64_t n : {1, 512}) {
        const std::string name =
            std::string("onednn/") + kind.name + "/" + shape.model + "_" + shape.name + "/rows:" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), bench_onednn, kind.src, kind.weights, shape, n)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
}

}  // namespace phirun::bench

#else

namespace phirun::bench {
void register_onednn_benchmarks() {}  // built without oneDNN (Debian libdnnl-dev)
}  // namespace phirun::bench

#endif
