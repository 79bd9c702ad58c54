// Thread pool with a generation counter: a job is published by bumping the generation; workers
// that are still spinning pick it up without a lock or a syscall (only a sleeping worker costs
// the caller the mutex), then claim chunks of it alongside the caller.
#include "kernels/cpu/thread_pool.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace phirun {

namespace {
// About 50 us of polling before a worker sleeps: longer than the gap between two ops of one
// token, far shorter than the gap between user requests.
constexpr int kSpinIterations = 20000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  workers_.reserve(size_t(n_threads_ - 1));
  for (int index = 1; index < n_threads_; ++index) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::work_on(Job& job) {
  for (;;) {
    const int64_t begin = job.next.fetch_add(job.chunk, std::memory_order_relaxed);
    if (begin >= job.n) return;
    const int64_t end = std::min(job.n, begin + job.chunk);
    (*job.body)(begin, end);
    job.done.fetch_add(end - begin, std::memory_order_release);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t current = generation_.load(std::memory_order_acquire);
    for (int spin = 0; current == seen && spin < kSpinIterations; ++spin) {
      cpu_relax();
      current = generation_.load(std::memory_order_acquire);
    }
    if (current == seen) {
      // Announce the sleep before checking the generation one last time (under the mutex): the
      // caller bumps the generation before it reads sleepers_, so one of the two sees the other.
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      current = generation_.load(std::memory_order_acquire);
    }
    seen = current;
    if (stopping_.load(std::memory_order_relaxed)) return;
    // Registered before reading the pointer: the caller clears job_ and then waits for in_job_ to
    // drop to zero before its job goes out of scope, so a late worker sees nullptr or a live job.
    in_job_.fetch_add(1, std::memory_order_seq_cst);
    if (Job* job = job_.load(std::memory_order_seq_cst)) work_on(*job);
    in_job_.fetch_sub(1, std::memory_order_release);
  }
}

int64_t ThreadPool::chunk_size(int64_t n) const {
  const int64_t chunks = int64_t(n_threads_) * 4;
  return std::max<int64_t>(1, (n + chunks - 1) / chunks);
}

namespace {

template <class Finished>
void wait_until(Finished&& finished) {
  for (int spin = 0; !finished(); ++spin) {
    if (spin < kSpinIterations) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace

void ThreadPool::execute(Job& job) {
  job_.store(&job, std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  work_on(job);
  wait_until([&] { return job.done.load(std::memory_order_acquire) == job.n; });
  job_.store(nullptr, std::memory_order_seq_cst);
  wait_until([&] { return in_job_.load(std::memory_order_seq_cst) == 0; });
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  if (n_threads_ == 1) {
    body(0, n);
    return;
  }
  Job job;
  job.body = &body;
  job.n = n;
  job.chunk = chunk_size(n);
  execute(job);
}

void ThreadPool::run(const std::function<void(int, int)>& task) {
  const int parts = n_threads_;
  if (parts == 1) {
    task(0, 1);
    return;
  }
  const std::function<void(int64_t, int64_t)> body = [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) task(int(part), parts);
  };
  Job job;
  job.body = &body;
  job.n = parts;
  job.chunk = 1;
  execute(job);
}

int ThreadPool::physical_core_count() {
  // Count distinct (package, core) pairs from sysfs; fall back to the logical count.
  std::set<std::pair<std::string, std::string>> cores;
  const unsigned logical = std::thread::hardware_concurrency();
  for (unsigned cpu = 0; cpu < logical; ++cpu) {
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream core_file(base + "core_id"), package_file(base + "physical_package_id");
    std::string core, package;
    if (!(core_file >> core) || !(package_file >> package)) {
      cores.clear();
      break;
    }
    cores.emplace(package, core);
  }
  if (!cores.empty()) return int(cores.size());
  return logical > 0 ? int(logical) : 1;
}

}  // namespace phirun
