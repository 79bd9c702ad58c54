// The thread pool: every index visited exactly once, chunks balanced, reuse across many runs.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "kernels/cpu/thread_pool.h"

namespace phirun {
namespace {

TEST(ThreadPool, ParallelForVisitsEveryIndexOnce) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 5, 100, 1001}) {
      std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
      pool.parallel_for(n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) visits[size_t(i)]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(visits[size_t(i)].load(), 1) << threads << " " << n << " " << i;
    }
  }
}

TEST(ThreadPool, ChunksAreAtMostTheChunkSizeAndRunVisitsEveryPart) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> parts(3);
  pool.run([&](int part, int n_parts) {
    ASSERT_EQ(n_parts, 3);
    parts[size_t(part)]++;
  });
  for (const auto& count : parts) EXPECT_EQ(count.load(), 1);
  for (int64_t n : {1, 10, 12, 1000}) {
    std::atomic<int64_t> largest{0};
    pool.parallel_for(n, [&](int64_t begin, int64_t end) {
      int64_t seen = largest.load();
      while (end - begin > seen && !largest.compare_exchange_weak(seen, end - begin)) {
      }
    });
    EXPECT_LE(largest.load(), pool.chunk_size(n)) << n;
    EXPECT_EQ(pool.chunk_size(n), (n + 11) / 12) << n;
  }
}

// A caller that finishes the work alone (the worker not yet scheduled) must not wait for it,
// and a worker arriving late must not touch a job that has ended.
TEST(ThreadPool, LateWorkersNeitherBlockNorSeeEndedJobs) {
  ThreadPool pool(2);
  for (int round = 0; round < 2000; ++round) {
    std::vector<int> visits(64, 0);
    pool.parallel_for(64, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) visits[size_t(i)]++;
    });
    for (int v : visits) ASSERT_EQ(v, 1);
  }
}

TEST(ThreadPool, ManyShortRunsInARow) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int run = 0; run < 20000; ++run) pool.run([&](int index, int) { total += index + 1; });
  EXPECT_EQ(total.load(), 20000 * 3);
}

TEST(ThreadPool, PhysicalCoresAtLeastOne) { EXPECT_GE(ThreadPool::physical_core_count(), 1); }

}  // namespace
}  // namespace phirun
