// --max-memory (LoadOptions::max_memory_bytes): a model whose weights and KV cache would not fit
// is refused before anything large is allocated, with how much it needs and how much is allowed;
// sessions and generators check their KV cache against the same budget; sizes parse as 4G, 512M.
#include <gtest/gtest.h>

#include <stdexcept>

#include "runtime/generator.h"
#include "runtime/kv_cache.h"
#include "runtime/memory_budget.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

using namespace phirun::testing;

std::string message_of_load(const std::string& path, const LoadOptions& options) {
  try {
    Model::load(path, options);
  } catch (const MemoryBudgetError& error) {
    return error.what();
  }
  return "loaded";
}

TEST(MemoryBudget, ParsesSizes) {
  EXPECT_EQ(parse_byte_size("1000"), 1000u);
  EXPECT_EQ(parse_byte_size("4K"), 4096u);
  EXPECT_EQ(parse_byte_size("512M"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_byte_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_byte_size("3gb"), 3ull << 30);
  for (const char* bad : {"", "G", "-1G", "0", "4X", "nan", "inf", "1e30", "12 G", "4GiBs"})
    EXPECT_THROW(parse_byte_size(bad), std::runtime_error) << bad;
  try {
    parse_byte_size("4X");
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "memory size '4X' is not a positive size such as 4G, 512M or 1000000");
  }
}

TEST(MemoryBudget, LoadRefusedWhenWeightsAndKvCacheDoNotFit) {
  TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  write_tiny_llama_gguf(path);
  LoadOptions options;
  options.n_threads = 1;
  options.max_memory_bytes = 4096;
  const std::string message = message_of_load(path, options);
  EXPECT_EQ(message.rfind(path + ": needs ", 0), 0u) << message;
  EXPECT_NE(message.find("(weights "), std::string::npos) << message;
  EXPECT_NE(message.find("a KV cache of 128 tokens"), std::string::npos) << "min(trained 128, 4096): " << message;
  EXPECT_NE(message.find("but --max-memory allows 0.0 MiB"), std::string::npos) << message;
  EXPECT_NE(message.find("available now"), std::string::npos) << message;
}

TEST(MemoryBudget, KvCacheOfTheContextAskedDecides) {
  TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  write_tiny_llama_gguf(path);
  const std::unique_ptr<Model> unlimited = Model::load(path, LoadOptions{1});
  const ModelConfig& config = unlimited->config();
  const uint64_t per_position = KvCache::bytes_per_position(config, TensorType::F16);
  // Exactly the weights and 16 positions: a 16-token context loads, the default 128 does not.
  LoadOptions options;
  options.n_threads = 1;
  options.max_memory_bytes = unlimited->weights_bytes() + 16 * per_position;
  options.context_length = 16;
  const std::unique_ptr<Model> model = Model::load(path, options);
  EXPECT_EQ(model->max_memory_bytes(), options.max_memory_bytes);
  options.context_length = 17;
  EXPECT_NE(message_of_load(path, options), "loaded");
  options.context_length = 0;
  EXPECT_NE(message_of_load(path, options).find("a KV cache of 128 tokens"), std::string::npos);

  // Sessions and generators of the loaded model keep to the same budget, before allocating.
  SessionOptions small_session;
  small_session.context_length = 16;
  EXPECT_NO_THROW((Session{*model, small_session}));
  SessionOptions large_session;
  large_session.context_length = 64;
  EXPECT_THROW((Session{*model, large_session}), MemoryBudgetError);
  GeneratorParams params;
  params.max_length = 16;
  EXPECT_NO_THROW((Generator{*model, params}));
  params.max_length = 17;
  try {
    Generator generator(*model, params);
    ADD_FAILURE() << "a generator of 17 positions fit in a budget of 16";
  } catch (const MemoryBudgetError& error) {
    EXPECT_NE(std::string(error.what()).find("a KV cache of 1 x 17 tokens"), std::string::npos) << error.what();
  }
  params.max_length = 8;
  params.num_beams = 3;  // three slots of 8 positions: 24 > 16
  EXPECT_THROW((Generator{*model, params}), MemoryBudgetError);
}

TEST(MemoryBudget, WithoutALimitTheMachinesMemoryIsTheLimit) {
  MemoryNeed need{1000, 1e30, "a KV cache of many tokens"};
  try {
    check_memory_need("model.gguf: ", need, 0);
    ADD_FAILURE() << "1e30 bytes fit";
  } catch (const MemoryBudgetError& error) {
    EXPECT_NE(std::string(error.what()).find("more than this machine's"), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(check_memory_need("model.gguf: ", MemoryNeed{1000, 1000, "x"}, 0));
}

}  // namespace
}  // namespace phirun
