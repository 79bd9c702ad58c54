// `phirun build` and `phirun perplexity` as a user runs them: errors are one line and a non-zero
// exit; an interrupted build (SIGINT) and a build that runs out of space (a file-size limit, as a
// full disk would) both leave nothing behind; `phirun generate --longrope-policy` on a built LongRoPE
// fixture.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/builder/hf_fixture.h"
#include "tests/common/tiny_model.h"
#include "tests/runtime/temp_dir.h"

namespace phirun {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `command` (a shell line using $PHIRUN) with both streams captured.
RunResult run(const testing::TempDir& dir, const std::string& command) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string line = "export PHIRUN=" + std::string(PHIRUN_EXECUTABLE) + "; timeout 300 bash -c '" + command +
                           "' >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(line.c_str());
  RunResult result{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), read_file(out), read_file(err)};
  fs::remove(out);
  fs::remove(err);
  return result;
}

// A Phi-3-shaped config with the committed Phi-3 tokenizer beside it (no weights needed for
// --random-weights).
std::string random_model_folder(const testing::TempDir& dir, int hidden, int layers, int ffn) {
  const std::string folder = dir.file("shape");
  fs::create_directories(folder);
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(testing::fixture_folder("phi3-tiny") + "/" + file, folder + "/" + file);
  nlohmann::json config = {{"architectures", {"Phi3ForCausalLM"}},
                           {"hidden_size", hidden},
                           {"intermediate_size", ffn},
                           {"num_hidden_layers", layers},
                           {"num_attention_heads", hidden / 64},
                           {"num_key_value_heads", hidden / 64},
                           {"vocab_size", 32064},
                           {"max_position_embeddings", 4096},
                           {"tie_word_embeddings", false}};
  std::ofstream(folder + "/config.json") << config.dump();
  return folder;
}

std::vector<std::string> leftovers(const testing::TempDir& dir) {
  std::vector<std::string> names = dir.entries();
  names.erase(std::remove(names.begin(), names.end(), "shape"), names.end());
  return names;
}

TEST(BuildCli, HubNamesAreNotDownloaded) {
  testing::TempDir dir;
  const RunResult result = run(dir, "$PHIRUN build -m microsoft/Phi-3-mini-4k-instruct -o " + dir.file("x.gguf"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("does not download from the Hugging Face hub"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(BuildCli, BuildsWithAProgressReportAndASummary) {
  testing::TempDir dir;
  const std::string folder = random_model_folder(dir, 128, 2, 256);
  const RunResult result = run(
      dir, "$PHIRUN build --random-weights --config " + folder + "/config.json -o " + dir.file("m.gguf") + " -p int4");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("writing ["), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("tensors"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("Q4_0"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("bits per weight"), std::string::npos) << result.err;
  // onnxruntime-genai's spellings: -m for the folder, -e for the device, -o a folder.
  fs::create_directories(dir.file("out"));
  const RunResult again = run(
      dir, "$PHIRUN build --random-weights --config " + folder + "/config.json -o " + dir.file("out") + " -e cuda -q");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(fs::exists(dir.file("out/model.gguf")));
  EXPECT_NE(again.err.find("F16"), std::string::npos) << again.err;  // cuda's default precision
}

TEST(BuildCli, AnInterruptedBuildLeavesNothing) {
  testing::TempDir dir;
  // About 300M parameters at Q4_1, the slowest quantizer: many seconds of work on any machine.
  const std::string folder = random_model_folder(dir, 1024, 16, 4096);
  const std::string output = dir.file("big.gguf");
  const std::string errors = dir.file("stderr.txt");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    const int log = ::open(errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(null, 1);
    ::dup2(log, 2);
    const std::string config = folder + "/config.json";
    ::execl(PHIRUN_EXECUTABLE, "phirun", "build", "--random-weights", "--config", config.c_str(), "-o", output.c_str(),
            "-p", "int4", "--int4-type", "q4_1", "-t", "1", nullptr);
    ::_exit(127);
  }
  // Interrupt once the file is being written (its temporary name exists).
  bool writing = false;
  for (int i = 0; i < 6000 && !writing; ++i) {
    for (const std::string& name : dir.entries()) writing |= name.find(".tmp-") != std::string::npos;
    if (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(writing) << "the build never started writing";
  ::kill(child, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(read_file(errors).find("build interrupted"), std::string::npos) << read_file(errors);
  fs::remove(errors);
  EXPECT_EQ(leftovers(dir), std::vector<std::string>{});
}

TEST(BuildCli, AFullDiskLeavesNothing) {
  testing::TempDir dir;
  const std::string folder = random_model_folder(dir, 256, 2, 512);
  // A 1 MB file-size limit stands in for a full disk: write() fails part-way with an error.
  const RunResult result = run(dir, "ulimit -f 1024; $PHIRUN build --random-weights --config " + folder +
                                        "/config.json -o " + dir.file("m.gguf") + " -p fp32 -q");
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("write failed"), std::string::npos) << result.err;
  EXPECT_EQ(leftovers(dir), std::vector<std::string>{});
}

TEST(PerplexityCli, PrintsRunningValuesAndTheFinalEstimate) {
  testing::TempDir dir;
  testing::write_tiny_llama_gguf(dir.file("m.gguf"));  // byte-level vocabulary, 128 positions
  std::ofstream text(dir.file("text.txt"));
  for (int i = 0; i < 40; ++i) text << "Line " << i << ": once upon a time there was a tiny model.\n";
  text.close();
  const RunResult result = run(dir, "$PHIRUN perplexity -m " + dir.file("m.gguf") + " -f " + dir.file("text.txt") +
                                        " -c 64 --chunks 3 --kld-base " + dir.file("base.bin"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("[1]"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("[3]"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("PPL = "), std::string::npos) << result.out;
  EXPECT_TRUE(fs::exists(dir.file("base.bin")));
  // Against its own base: no divergence, every top-1 token the same.
  const RunResult compared = run(dir, "$PHIRUN perplexity -m " + dir.file("m.gguf") + " -f " + dir.file("text.txt") +
                                          " -c 64 --chunks 3 --kld-base " + dir.file("base.bin"));
  EXPECT_EQ(compared.exit_code, 0) << compared.err;
  EXPECT_NE(compared.out.find("same top-1     = 100.000%"), std::string::npos) << compared.out;
  const size_t kld = compared.out.find("KLD mean       = ");
  ASSERT_NE(kld, std::string::npos) << compared.out;
  // Only the base file's 16-bit rounding of log-probabilities (steps of 16/65535 nats) remains.
  EXPECT_LT(std::fabs(std::stod(compared.out.substr(kld + 17))), 1e-4) << compared.out;

  std::ofstream(dir.file("short.txt")) << "too short";
  const RunResult too_short =
      run(dir, "$PHIRUN perplexity -m " + dir.file("m.gguf") + " -f " + dir.file("short.txt") + " -c 64");
  EXPECT_EQ(too_short.exit_code, 1);
  EXPECT_NE(too_short.err.find("needs at least 128"), std::string::npos) << too_short.err;
}

// --longrope-policy on `phirun generate` with the phi3-longrope-tiny fixture (original context 48):
// a 20-token prompt decoded 40 tokens greedily crosses the switch at position 48. The default
// (reprefill, as transformers' generate) gives transformers' greedy ids at every step whose top-2
// gap clears the float tolerance (2e-4, as test_phi_family); keep-cache keeps the short-rotated keys,
// so its logits differ past the switch and its ids part from transformers' there, never before.
TEST(GenerateCli, LongRopePolicyFlag) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::make_fixture_checkpoint("phi3-longrope-tiny", dir.file("ckpt"), ""));
  const std::string model = dir.file("m.gguf");
  const RunResult built = run(dir, "$PHIRUN build -m " + dir.file("ckpt") + " -o " + model + " -p fp32");
  ASSERT_EQ(built.exit_code, 0) << built.err;
  const nlohmann::json greedy = testing::fixture_reference("phi3-longrope-tiny")["greedy"];
  const auto expected = greedy["sequence"].get<std::vector<int32_t>>();
  const size_t prompt_size = greedy["prompt_ids"].size();
  const int64_t switch_position = 48;  // original_max_position_embeddings of the fixture's config.json
  auto generated = [&](const std::string& policy) {
    const RunResult result =
        run(dir, "$PHIRUN generate -m " + model +
                     " -p \"Once upon a time, there was a little girl named Lily. She loved to play outside\""
                     " -n 40 --ignore-eos --ids --kv-type f32 --accuracy float -t 2" +
                     (policy.empty() ? "" : " --longrope-policy " + policy));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::vector<int32_t> ids;
    std::istringstream in(result.out);
    for (std::string word; in >> word;) ids.push_back(std::stoi(word));
    return ids;
  };
  const std::vector<int32_t> by_default = generated(""), reprefill = generated("reprefill");
  const std::vector<int32_t> keep = generated("keep-cache");
  EXPECT_EQ(by_default, reprefill);
  ASSERT_EQ(reprefill.size(), expected.size() - prompt_size);
  ASSERT_EQ(keep.size(), reprefill.size());
  size_t compared = 0;
  for (; compared < reprefill.size() && greedy["step_gaps"][compared].get<double>() >= 2e-4; ++compared)
    ASSERT_EQ(reprefill[compared], expected[prompt_size + compared]) << "step " << compared;
  EXPECT_GT(int64_t(prompt_size + compared), switch_position) << "the compared steps must cross the switch";
  size_t first_difference = 0;
  while (first_difference < keep.size() && keep[first_difference] == reprefill[first_difference]) ++first_difference;
  EXPECT_LT(first_difference, keep.size()) << "keep-cache should differ from reprefill past the switch";
  EXPECT_GE(int64_t(prompt_size + first_difference), switch_position) << "and not before it";

  const RunResult bad = run(dir, "$PHIRUN generate -m " + model + " -p x --longrope-policy sometimes");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--longrope-policy"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 2)
      << bad.err;  // CLI11: the error, then "Run with --help"
  for (const char* command : {"generate", "chat", "bench"}) {
    const RunResult help = run(dir, std::string("$PHIRUN ") + command + " --help");
    EXPECT_NE(help.out.find("--longrope-policy"), std::string::npos) << command;
    EXPECT_NE(help.out.find("keep-cache"), std::string::npos) << command;
  }
}

}  // namespace
}  // namespace phirun
