// One model shared by several generators on several threads (through the C++ API): each thread
// gets exactly what a lone generator gets. Run under ThreadSanitizer in CI
// (-DPHIRUN_SANITIZE=thread), where any data race between the generators fails the test.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "phirun/phirun.hpp"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace {

using namespace phirun::testing;

std::vector<int32_t> complete(const phirun::api::Model& model, int salt, bool sample) {
  phirun::api::GeneratorParams params(model);
  params.set("max_length", 16).set_stop_token_ids({});
  if (sample) params.set("do_sample", true).set("top_k", 20).set("random_seed", salt);
  if (salt % 3 == 0 && !sample) params.set("num_beams", 2);
  phirun::api::Generator generator(model, params);
  std::vector<int32_t> prompt;
  for (int i = 0; i < 3 + salt % 5; ++i) prompt.push_back(3 + (salt * 31 + i * 7) % 250);
  generator.append_tokens(prompt);
  while (!generator.is_done()) generator.generate_next_token();
  const auto tokens = generator.sequence(0);
  return {tokens.begin(), tokens.end()};
}

TEST(Threads, GeneratorsSharingAModelOnSeveralThreadsGetWhatEachGetsAlone) {
  TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  write_tiny_llama_gguf(path, {});
  const phirun::api::Model model(path, 2);  // a pool of two threads, shared by every generator
  constexpr int kThreads = 4, kJobs = 2;
  std::vector<std::vector<int32_t>> expected;
  for (int t = 0; t < kThreads; ++t)
    for (int j = 0; j < kJobs; ++j) expected.push_back(complete(model, t * kJobs + j, j % 2 == 1));

  std::vector<std::vector<int32_t>> got(expected.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kJobs; ++j) got[size_t(t * kJobs + j)] = complete(model, t * kJobs + j, j % 2 == 1);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(got, expected);
}

}  // namespace
