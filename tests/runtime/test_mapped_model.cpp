// A loaded model reads parts of its file through the mapping (an untied token embedding; every
// weight with the scalar kernels). Replacing the file by rename, as phirun's writer does, leaves
// the loaded model intact; truncating it in place is a SIGBUS on the next read of a lost page:
// the documented behaviour (README, Limits), tested here so that a change to it is noticed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <vector>

#include "runtime/model.h"
#include "runtime/session.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

using namespace phirun::testing;

TinyModelOptions untied_model(uint32_t seed) {
  TinyModelOptions options;
  options.seed = seed;
  options.tied_output = false;  // the embedding is then read from the mapping at run time
  return options;
}

std::vector<float> next_logits(const Model& model) {
  Session session(model);
  const int32_t tokens[] = {kTinyImStartId, kTinyFirstByteId + 'h', kTinyFirstByteId + 'i'};
  const std::span<const float> logits = session.append(tokens);
  return {logits.begin(), logits.end()};
}

TEST(MappedModel, ReplacingTheFileByRenameLeavesALoadedModelWorking) {
  TempDir dir;
  const std::string path = dir.file("model.gguf");
  write_tiny_llama_gguf(path, untied_model(1));
  const std::unique_ptr<Model> model = Model::load(path, LoadOptions{1});
  const std::vector<float> before = next_logits(*model);
  write_tiny_llama_gguf(dir.file("other.gguf"), untied_model(2));
  std::filesystem::rename(dir.file("other.gguf"), path);  // the old inode lives on under the mapping
  EXPECT_EQ(next_logits(*model), before);
  EXPECT_NE(next_logits(*Model::load(path, LoadOptions{1})), before) << "the new file is another model";
}

bool killed_by_sigbus_or_failed(int status) {
  // Plain builds die of SIGBUS; under AddressSanitizer its handler reports it and exits non-zero,
  // or aborts (SIGABRT) when ASAN_OPTIONS has abort_on_error=1, as CI sets it.
  if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGBUS || WTERMSIG(status) == SIGABRT;
  return WIFEXITED(status) && WEXITSTATUS(status) != 0;
}

TEST(MappedModelDeathTest, TruncatingTheFileUnderALoadedModelIsSigbus) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  const std::string path = dir.file("model.gguf");
  write_tiny_llama_gguf(path, untied_model(1));
  EXPECT_EXIT(
      {
        const std::unique_ptr<Model> model = Model::load(path, LoadOptions{1});
        std::filesystem::resize_file(path, 0);
        next_logits(*model);
        std::_Exit(0);  // reached only if no page of the file was read after the truncation
      },
      killed_by_sigbus_or_failed, "");
}

}  // namespace
}  // namespace phirun
