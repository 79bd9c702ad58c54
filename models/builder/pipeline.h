// The build's worker pipeline: every tensor is cut into units of rows, worker threads read and
// quantize units in file order as far ahead as a memory window allows, and the writer takes them
// in order. No barrier per tensor: a thread that the OS pauses delays one unit, not the build.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/quant/quantize_search.h"
#include "models/builder/model_source.h"

namespace phirun::builder {

// One tensor to write: where its rows come from, its type, its importance weights (or null).
struct TensorJob {
  const SourceTensor* tensor = nullptr;
  TensorType type = TensorType::F32;
  const float* importance = nullptr;     // one weight per column, or nullptr
  const float* second_moment = nullptr;  // E[x xᵀ], [cols][cols]: quantize with GPTQ (block types)
  bool uses_gptq() const { return second_moment && type_traits(type).block_elements > 1; }
};

class QuantizePipeline {
 public:
  // Starts `threads` workers over the units of every job. `window_units` bounds how many units
  // may be done but not yet taken by the writer (memory: about 4 MB a unit).
  QuantizePipeline(std::vector<TensorJob> jobs, int threads, const QuantSearch& search,
                   const std::atomic<bool>* cancel);
  ~QuantizePipeline();
  QuantizePipeline(const QuantizePipeline&) = delete;
  QuantizePipeline& operator=(const QuantizePipeline&) = delete;

  // The units of job `job`: [first_unit(job), first_unit(job + 1)).
  size_t first_unit(size_t job) const { return job_first_unit_[job]; }
  // Waits for unit `unit` and returns its bytes; rethrows the error a worker met on it.
  const std::vector<uint8_t>& wait(size_t unit);
  // The writer is done with `unit` (taken in order): its memory goes, workers may go further.
  void release(size_t unit);

 private:
  struct Unit {
    size_t job = 0;
    int64_t first_row = 0, n_rows = 0;
    std::vector<uint8_t> bytes;
    std::exception_ptr error;
    bool done = false;
  };
  void work();
  void run_unit(Unit& unit, std::vector<float>& values) const;

  std::vector<TensorJob> jobs_;
  std::vector<size_t> job_first_unit_;
  std::vector<Unit> units_;
  QuantSearch search_;
  const std::atomic<bool>* cancel_;
  size_t window_;

  std::mutex mutex_;
  std::condition_variable progress_;  // a unit finished, or the writer released one
  size_t next_unit_ = 0;              // the next unit a worker takes
  size_t released_ = 0;               // units the writer has released
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace phirun::builder
