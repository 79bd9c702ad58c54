// One pool of worker threads per model: created once, reused for every op of every token.
// Work is cut into chunks that the caller and the workers claim from a shared counter, so a
// worker that the OS has not scheduled yet (another process busy on its core) delays nothing:
// the others take its share. Workers spin briefly between ops (ops follow each other within
// microseconds), then sleep.
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

  // Runs task(part, n_parts) once for every part 0 .. n_threads-1, in parallel on whichever
  // threads are free (the caller included), and returns when all have finished. Not reentrant.
  void run(const std::function<void(int part, int n_parts)>& task);

  // Calls body(begin, end) over [0, n) in chunks of at most chunk_size(n) indices, claimed by
  // the threads in turn; returns when every index has been visited exactly once.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& body);

  // The chunk length parallel_for uses: about four chunks per thread, so that the threads finish
  // together even when one of them starts late.
  int64_t chunk_size(int64_t n) const;

  // Physical cores of this machine (hyper-thread siblings counted once); at least 1.
  static int physical_core_count();

 private:
  struct Job {
    const std::function<void(int64_t, int64_t)>* body = nullptr;
    int64_t n = 0, chunk = 1;
    std::atomic<int64_t> next{0};  // first index not yet claimed
    std::atomic<int64_t> done{0};  // indices finished
  };

  void worker_loop();
  void execute(Job& job);  // publishes the job, works on it, returns when it is done
  static void work_on(Job& job);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};  // bumped for every job and for shutdown
  std::atomic<Job*> job_{nullptr};       // the job in progress, nullptr between jobs
  std::atomic<int> in_job_{0};           // workers holding a pointer to the job
  std::atomic<int> sleepers_{0};         // workers waiting on wake_
  std::atomic<bool> stopping_{false};
};

}  // namespace phirun
