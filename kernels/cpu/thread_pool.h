// One pool of worker threads per model: created once, reused for every op of every token.
// Workers spin briefly between ops (ops follow each other within microseconds), then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace phirun {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs task(thread_index, n_threads) once on every thread (the caller is thread 0) and returns
  // when all have finished. Not reentrant: tasks must not call run() themselves.
  void run(const std::function<void(int thread_index, int n_threads)>& task);

  // Splits [0, n) into one contiguous chunk per thread, sizes differing by at most one.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& body);

  // Physical cores of this machine (hyper-thread siblings counted once); at least 1.
  static int physical_core_count();

 private:
  void worker_loop(int thread_index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};  // workers waiting on wake_
  std::atomic<bool> stopping_{false};
  std::atomic<const std::function<void(int, int)>*> task_{nullptr};
};

}  // namespace phirun
