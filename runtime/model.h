// A loaded model: the validated GGUF mapping, its config, weight views into the mapping, its
// tokenizer and chat template, and the thread pool its sessions compute on.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.h"
#include "models/model_config.h"
#include "runtime/gguf.h"
#include "tokenizer/tokenizer.h"

namespace phirun {

struct LoadOptions {
  int n_threads = 0;  // 0: one per physical core
  // The most memory the weights plus one KV cache may take (--max-memory); 0: the machine's
  // physical memory. Checked at load for a KV cache of `context_length` tokens (0: the
  // sessions' default, min(trained context, 4096)), and again by every session and generator.
  uint64_t max_memory_bytes = 0;
  int64_t context_length = 0;
};

class Model {
 public:
  // Throws std::runtime_error("PATH: problem") for a missing, malformed or unsupported file.
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});

  const GgufFile& file() const { return file_; }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const std::string& chat_template() const { return chat_template_; }  // empty when the file has none
  ThreadPool& thread_pool() const { return *pool_; }
  // The thread pool runs one parallel op at a time: generators that share this model from
  // several threads hold this lock around each forward pass.
  std::mutex& compute_mutex() const { return compute_mutex_; }

  // The bytes of the weights as loaded, and the check a session or generator makes before it
  // allocates its KV cache: throws "PATH: needs ..." when weights + KV exceed the budget.
  uint64_t weights_bytes() const { return weights_bytes_; }
  uint64_t max_memory_bytes() const { return max_memory_bytes_; }
  void check_kv_memory(double kv_bytes, const std::string& kv_what,
                       const std::string& advice = "ask for a shorter context or a smaller model") const;

 private:
  Model() = default;

  GgufFile file_;
  ModelConfig config_;
  ModelWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string chat_template_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<WeightBuffer> prepared_weights_;  // matmul weights repacked for the CPU kernels
  mutable std::mutex compute_mutex_;
  uint64_t weights_bytes_ = 0;
  uint64_t max_memory_bytes_ = 0;
};

// Fills and checks the config from GGUF metadata (exposed for tests).
ModelConfig config_from_gguf(const GgufFile& file);

}  // namespace phirun
