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

TEST(ThreadPool, ChunksDifferByAtMostOne) {
  ThreadPool pool(3);
  std::vector<int64_t> sizes(3);
  pool.run([&](int index, int n_threads) {
    ASSERT_EQ(n_threads, 3);
    (void)index;
  });
  pool.parallel_for(10, [&](int64_t begin, int64_t end) {
    sizes[size_t(begin == 0 ? 0 : begin == 4 ? 1 : 2)] = end - begin;
  });
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 3, 3}));
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
