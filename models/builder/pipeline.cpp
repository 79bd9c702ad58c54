// Workers take units in order; the window keeps them at most `window_` units ahead of the writer.
#include "models/builder/pipeline.h"

#include <cmath>
#include <stdexcept>

#include "models/builder/gptq.h"

namespace phirun::builder {

namespace {

// A unit reads at most this many floats (4 MB): small enough for many units per tensor, large
// enough that taking one costs nothing next to quantizing it.
constexpr int64_t kUnitFloats = int64_t(1) << 20;

}  // namespace

QuantizePipeline::QuantizePipeline(std::vector<TensorJob> jobs, int threads, const QuantSearch& search,
                                   const std::atomic<bool>* cancel)
    : jobs_(std::move(jobs)), search_(search), cancel_(cancel) {
  threads = std::max(threads, 1);
  window_ = size_t(4 * threads);
  for (size_t j = 0; j < jobs_.size(); ++j) {
    job_first_unit_.push_back(units_.size());
    const TensorPlan& plan = jobs_[j].tensor->plan;
    // GPTQ sweeps whole rows with one factorisation per matrix: one unit holds the whole tensor.
    const int64_t rows = plan.n_rows();
    const int64_t per_unit =
        jobs_[j].uses_gptq() ? rows : std::clamp<int64_t>(kUnitFloats / plan.row_length(), 1, rows);
    for (int64_t first = 0; first < rows; first += per_unit)
      units_.push_back({j, first, std::min(per_unit, rows - first), {}, nullptr, false});
  }
  job_first_unit_.push_back(units_.size());
  for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
}

QuantizePipeline::~QuantizePipeline() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  progress_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void QuantizePipeline::run_unit(Unit& unit, std::vector<float>& values) const {
  const TensorJob& job = jobs_[unit.job];
  const int64_t length = job.tensor->plan.row_length();
  values.resize(size_t(unit.n_rows * length));
  job.tensor->read_rows(unit.first_row, unit.n_rows, values.data());
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw std::runtime_error("tensor " + job.tensor->plan.name + " holds a value that is not finite (row " +
                               std::to_string(unit.first_row + int64_t(i) / length) + ")");
  const uint64_t out_row = *row_bytes(job.type, length);
  unit.bytes.resize(size_t(out_row * uint64_t(unit.n_rows)));
  if (job.uses_gptq()) {
    quantize_gptq(job.type, values.data(), unit.n_rows, length, job.second_moment, unit.bytes.data(), search_);
    return;
  }
  for (int64_t r = 0; r < unit.n_rows; ++r)
    quantize_row_search(job.type, values.data() + r * length, job.importance, unit.bytes.data() + uint64_t(r) * out_row,
                        length, search_);
}

void QuantizePipeline::work() {
  std::vector<float> values;
  for (;;) {
    size_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      progress_.wait(lock,
                     [&] { return stopping_ || next_unit_ >= units_.size() || next_unit_ < released_ + window_; });
      if (stopping_ || next_unit_ >= units_.size()) return;
      index = next_unit_++;
    }
    Unit& unit = units_[index];
    std::exception_ptr error;
    try {
      if (cancel_ && cancel_->load()) throw std::runtime_error("build interrupted");
      run_unit(unit, values);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      unit.error = error;
      unit.done = true;
    }
    progress_.notify_all();
  }
}

const std::vector<uint8_t>& QuantizePipeline::wait(size_t index) {
  std::unique_lock<std::mutex> lock(mutex_);
  progress_.wait(lock, [&] { return units_[index].done; });
  if (units_[index].error) std::rethrow_exception(units_[index].error);
  return units_[index].bytes;
}

void QuantizePipeline::release(size_t index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<uint8_t>().swap(units_[index].bytes);
    released_ = std::max(released_, index + 1);
  }
  progress_.notify_all();
}

}  // namespace phirun::builder
