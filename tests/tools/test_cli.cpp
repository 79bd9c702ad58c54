// The phirun binary end to end: the default model answers, and every kind of bad input gives one
// clear error line on stderr and a non-zero exit, never a crash or a hang.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "tests/common/test_model.h"
#include "tests/common/tiny_model.h"

namespace phirun {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs phirun with `arguments` (already shell-quoted) under a time limit, capturing both streams.
RunResult run_phirun(const std::string& arguments, int timeout_seconds = 120) {
  // ctest runs tests as parallel processes: each call gets files of its own.
  static int call = 0;
  const std::string stem =
      ::testing::TempDir() + "phirun_cli_" + std::to_string(::getpid()) + "_" + std::to_string(++call);
  const std::string out_path = stem + ".out", err_path = stem + ".err";
  const std::string command = "timeout " + std::to_string(timeout_seconds) + " " + PHIRUN_EXECUTABLE + " " + arguments +
                              " >" + out_path + " 2>" + err_path + " </dev/null";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return result;
}

std::string quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

int count_lines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

// One error line naming the problem, exit code 1 (2 for command-line mistakes).
void expect_one_error(const RunResult& result, const std::string& needle) {
  EXPECT_NE(result.exit_code, 0);
  EXPECT_LT(result.exit_code, 124) << "timed out or killed by a signal";
  EXPECT_NE(result.err.find(needle), std::string::npos) << "stderr: " << result.err;
  EXPECT_NE(result.err.find("error"), std::string::npos) << "stderr: " << result.err;
}

TEST(Cli, NoArgumentsPrintsCommandsWithExamples) {
  const RunResult result = run_phirun("");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* command : {"chat", "generate", "tokenize", "info"})
    EXPECT_NE(result.out.find(std::string("phirun ") + command), std::string::npos) << command;
}

TEST(Cli, UnknownCommandPrintsCommands) {
  const RunResult result = run_phirun("frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(result.err.find("phirun generate"), std::string::npos);
}

TEST(Cli, EverySubcommandHasHelpWithAnExample) {
  for (const char* command : {"chat", "generate", "tokenize", "info", "bench"}) {
    const RunResult result = run_phirun(std::string(command) + " --help");
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_NE(result.out.find("Example: phirun"), std::string::npos) << command << ": " << result.out;
  }
}

TEST(Cli, BadFlagIsAnError) {
  const RunResult result = run_phirun("generate --no-such-flag");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("no-such-flag"), std::string::npos) << result.err;
  const RunResult threads = run_phirun("generate -t 0 -p hi");
  EXPECT_NE(threads.exit_code, 0);
}

TEST(Cli, MissingModelFile) {
  const RunResult result = run_phirun("info /nonexistent/model.gguf");
  expect_one_error(result, "/nonexistent/model.gguf: cannot open");
  EXPECT_EQ(count_lines(result.err), 1) << result.err;
}

TEST(Cli, DirectoryAndNonGgufFiles) {
  const std::string text_file = ::testing::TempDir() + "not_a_model_" + std::to_string(::getpid()) + ".gguf";
  std::ofstream(text_file) << "hello, this is not a model\n";
  expect_one_error(run_phirun("info " + quote(text_file)), "not a GGUF file");
  expect_one_error(run_phirun("generate -p hi -m " + quote(text_file)), "not a GGUF file");
  expect_one_error(run_phirun("info " + quote(::testing::TempDir())), "not a regular file");
  std::filesystem::remove(text_file);
}

// A prefix of the real model: the header and metadata are intact, the tensors run off the end.
TEST(Cli, TruncatedRealModel) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const std::string truncated = ::testing::TempDir() + "truncated_" + std::to_string(::getpid()) + ".gguf";
  for (uint64_t size : {uint64_t(10), uint64_t(100000), uint64_t(50000000)}) {
    std::filesystem::copy_file(model_path, truncated, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(truncated, size);
    const RunResult result = run_phirun("generate -p hi -m " + quote(truncated));
    expect_one_error(result, truncated + ":");
    EXPECT_EQ(count_lines(result.err), 1) << result.err;
  }
  std::filesystem::remove(truncated);
}

TEST(Cli, DefaultModelAnswersParis) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result = run_phirun("chat -m " + quote(model_path) + " -p 'What is the capital of France?'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "The capital of France is Paris.\n");
  EXPECT_NE(result.err.find("prompt 37 tokens"), std::string::npos) << result.err;
}

TEST(Cli, InfoSaysTheChatTemplateRenders) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result = run_phirun("info " + quote(model_path));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("chat template:  present (368 bytes, renders)\n"), std::string::npos) << result.out;
}

// A tiny model whose chat template is `chat_template` and whose vocabulary adds a BOS.
std::string write_tiny_chat_model(const std::string& name, const std::string& chat_template) {
  testing::TinyModelOptions options;
  options.override_keys = {{"tokenizer.chat_template", GgufValue::of_string(chat_template)},
                           {"tokenizer.ggml.add_bos_token", GgufValue::of_bool(true)}};
  const std::string path = ::testing::TempDir() + name + "_" + std::to_string(::getpid()) + ".gguf";
  testing::write_tiny_llama_gguf(path, options);
  return path;
}

TEST(Cli, ChatRendersTheModelsTemplate) {
  // The template writes the BOS itself: the prompt holds it once (transformers adds no other), then
  // the question's two bytes.
  const std::string model = write_tiny_chat_model(
      "tiny_bos_template", "{{ bos_token }}{% for m in messages %}{{ m.content | trim }}{% endfor %}");
  const RunResult result = run_phirun("chat -n 1 --ids -m " + quote(model) + " -p ' hi '");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("prompt 3 tokens"), std::string::npos) << result.err;
  const RunResult info = run_phirun("info " + quote(model));
  EXPECT_NE(info.out.find("chat template:  present (72 bytes, renders)"), std::string::npos) << info.out;
  std::filesystem::remove(model);
}

TEST(Cli, ChatTemplateErrorsAreOneLine) {
  const std::string model =
      write_tiny_chat_model("tiny_raising_template",
                            "{% if messages[0].role != 'system' %}{{ raise_exception('A system message is required') }}"
                            "{% endif %}{{ messages[0].content }}");
  expect_one_error(run_phirun("chat -m " + quote(model) + " -p hi"),
                   "chat template: the template raised an error: A system message is required (line 1, column 41)");
  const RunResult ok = run_phirun("chat -n 1 --ids --system 'Be brief.' -m " + quote(model) + " -p hi");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  const std::string broken =
      write_tiny_chat_model("tiny_broken_template", "{% for m in messages %}{{ m.content | from_json }}{% endfor %}");
  expect_one_error(run_phirun("chat -m " + quote(broken) + " -p hi"),
                   "chat template: line 1, column 39: unknown filter 'from_json'");
  const RunResult info = run_phirun("info " + quote(broken));
  EXPECT_NE(info.out.find("cannot render: line 1, column 39: unknown filter 'from_json'"), std::string::npos)
      << info.out;
  std::filesystem::remove(model);
  std::filesystem::remove(broken);
}

TEST(Cli, GenerateIdsAndTokenize) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult ids = run_phirun("chat --ids -m " + quote(model_path) + " -p 'What is the capital of France?'");
  EXPECT_EQ(ids.out, "504 3575 282 4649 314 7042 30 2\n") << ids.err;
  const RunResult tokens = run_phirun("tokenize -m " + quote(model_path) + " -p 'Hello world 42'");
  EXPECT_EQ(tokens.exit_code, 0) << tokens.err;
  EXPECT_EQ(tokens.out, "19556 905 216 36 34\n");
  const RunResult pieces = run_phirun("tokenize --pieces -m " + quote(model_path) + " -p 'Hi\n'");
  EXPECT_EQ(pieces.out, "26843\t'Hi'\n198\t'\\n'\n");
}

TEST(Cli, PromptLongerThanContext) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result =
      run_phirun("generate -c 8 -m " + quote(model_path) + " -p 'one two three four five six seven eight nine ten'");
  expect_one_error(result, "context holds 8");
  const RunResult too_big = run_phirun("generate -c 100000 -p hi -m " + quote(model_path));
  expect_one_error(too_big, "trained for 8192");
}

TEST(Cli, InvalidUtf8Prompt) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const std::string prompt_file = ::testing::TempDir() + "invalid_utf8_" + std::to_string(::getpid()) + ".txt";
  std::ofstream(prompt_file, std::ios::binary) << "abc\xff def";
  const RunResult result = run_phirun("generate -m " + quote(model_path) + " -f " + quote(prompt_file));
  expect_one_error(result, "UTF-8");
  EXPECT_EQ(count_lines(result.err), 1) << result.err;
  std::filesystem::remove(prompt_file);
}

TEST(Cli, MissingPrompt) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  expect_one_error(run_phirun("generate -m " + quote(model_path)), "no prompt");
  expect_one_error(run_phirun("generate -f /nonexistent/prompt.txt -m " + quote(model_path)),
                   "/nonexistent/prompt.txt: cannot open");
}

// The search flags: a seed gives the same sample at one and two threads; beam search prints its
// hypotheses best first; a stop string cuts the text; contradictory flags are one error line.
TEST(Cli, SamplingWithASeedIsTheSameAtOneAndTwoThreads) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const std::string command = "generate -m " + quote(model_path) +
                              " -p 'Once upon a time' -n 24 --do-sample --temperature 0.9 --top-p 0.95 --seed 5";
  const RunResult one = run_phirun(command + " -t 1");
  const RunResult two = run_phirun(command + " -t 2");
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, two.out);
  EXPECT_GT(one.out.size(), 40u);
  const RunResult other_seed = run_phirun(command + " -t 1 --seed 6");
  EXPECT_NE(one.out, other_seed.out);
}

TEST(Cli, BeamSearchPrintsTheBestHypothesesFirst) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result =
      run_phirun("chat -m " + quote(model_path) +
                 " -p 'Name three colors.' --num-beams 4 --num-return-sequences 2 -n 20 --length-penalty 1.2 "
                 "--kv-type f32");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // transformers.generate's two, scored -0.30150 and -0.37024 (chat_colors/beam4_lp1.2_estrue in
  // tests/fixtures/generation/smollm2.json); phirun's scores agree to 1e-5.
  EXPECT_EQ(result.out, "[1] score -0.3015\n1. Red\n2. Blue\n3. Green\n[2] score -0.3702\n1. Red\n2. Green\n3. Blue\n");
}

TEST(Cli, StopStringsCutTheText) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result =
      run_phirun("generate -m " + quote(model_path) + " -p 'Once upon a time' -n 40 --stop 'Haven was' --stop zzz");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, ", the city of Nova \n");
  EXPECT_NE(result.err.find("stop: stop string"), std::string::npos) << result.err;
}

TEST(Cli, ContradictorySearchFlags) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const std::string base = "generate -m " + quote(model_path) + " -p hi ";
  expect_one_error(run_phirun(base + "--top-p 0"), "top_p = 0 is outside (0, 1]");
  expect_one_error(run_phirun(base + "--num-beams 4 --num-return-sequences 5"),
                   "num_return_sequences = 5 must be between 1 and num_beams = 4");
  expect_one_error(run_phirun(base + "--num-beams 2 --do-sample"), "beam sampling");
  expect_one_error(run_phirun(base + "--max-length 1"), "no room below max_length = 1");
  expect_one_error(run_phirun(base + "--num-beams 40"), "num_beams = 40");
}

TEST(Cli, DefaultModelMissingSaysHowToFetchIt) {
  // Run with an empty cache folder so that the default model cannot be found.
  const std::string empty_cache = ::testing::TempDir() + "empty_phirun_cache";
  std::filesystem::create_directories(empty_cache);
  const std::string command =
      "env PHIRUN_CACHE_DIR=" + quote(empty_cache) + " " + PHIRUN_EXECUTABLE + " generate -p hi 2>&1 >/dev/null";
  std::array<char, 512> buffer{};
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  while (fgets(buffer.data(), int(buffer.size()), pipe)) output += buffer.data();
  const int status = pclose(pipe);
  EXPECT_NE(status, 0);
  EXPECT_NE(output.find("scripts/fetch-model.sh"), std::string::npos) << output;
}

TEST(Cli, InfoSystemNamesTheChosenKernelVariant) {
  const RunResult result = run_phirun("info --system");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("kernel variants: scalar"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("chosen:"), std::string::npos) << result.out;
  // This build's CUDA: "built without CUDA", "none found (why)" or one "cuda:N" line per device.
  EXPECT_TRUE(result.out.find("cuda devices:   built without CUDA") != std::string::npos ||
              result.out.find("cuda devices:   none found (") != std::string::npos ||
              result.out.find("\ncuda:0 ") != std::string::npos)
      << result.out;
  expect_one_error(run_phirun("generate -p hi --isa sse9"), "unknown kernel variant");
}

TEST(Cli, BenchReportsEveryTestAndThreadCountAsJson) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result = run_phirun("bench -m " + quote(model_path) + " -p 8 -n 4 -r 2 -t 1,2 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json["results"].size(), 4u) << result.out;
  EXPECT_EQ(json["results"][0]["test"], "pp8");
  EXPECT_EQ(json["results"][1]["test"], "tg4");
  EXPECT_EQ(json["results"][2]["threads"], 2);
  for (const auto& r : json["results"]) {
    EXPECT_EQ(r["runs"].size(), 2u);
    EXPECT_GT(r["median_tokens_per_second"].get<double>(), 0.0);
  }
  EXPECT_GT(json["peak_rss_bytes"].get<double>(), json["file_bytes"].get<double>() * 0.5);
  expect_one_error(run_phirun("bench -m " + quote(model_path) + " -t 1,x"), "expected thread counts");
}

TEST(Cli, Int8AccuracyRuns) {
  PHIRUN_REQUIRE_DEFAULT_MODEL(model_path);
  const RunResult result = run_phirun("generate --accuracy int8 -n 4 -m " + quote(model_path) + " -p 'Once upon'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(result.out.empty());
}

// --max-memory refuses a model + KV cache that would not fit, before loading it, in one line.
TEST(Cli, MaxMemoryRefusesAModelThatWouldNotFit) {
  const std::string model = write_tiny_chat_model("tiny_max_memory", "{{ messages[0].content }}");
  const RunResult refused = run_phirun("chat -n 1 --ids --max-memory 8K -m " + quote(model) + " -p hi");
  expect_one_error(refused, model + ": needs ");
  EXPECT_NE(refused.err.find("but --max-memory allows"), std::string::npos) << refused.err;
  EXPECT_EQ(count_lines(refused.err), 1) << refused.err;
  expect_one_error(run_phirun("chat -n 1 --max-memory 12Q -m " + quote(model) + " -p hi"),
                   "memory size '12Q' is not a positive size such as 4G, 512M or 1000000");
  const RunResult fits = run_phirun("chat -n 1 --ids --max-memory 64M -m " + quote(model) + " -p hi");
  EXPECT_EQ(fits.exit_code, 0) << fits.err;
}

// bench --precisions on a tiny F32 model: every precision at every thread count in the table,
// report.json and report.csv with the same numbers, KL divergence against the highest precision,
// and the second run reusing the cached builds.
TEST(Cli, BenchPrecisionsWritesConsistentReports) {
  const std::string dir = ::testing::TempDir() + "phirun_bench_precisions_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string model_path = dir + "/tiny-f32.gguf";
  testing::TinyModelOptions options;
  options.matrix_type = TensorType::F32;
  testing::write_tiny_llama_gguf(model_path, options);
  // Text of random lowercase words: the tiny vocabulary spells it nearly a byte per token, so
  // 3000 bytes give several 64-token chunks.
  std::mt19937 rng(7);
  std::string text;
  while (text.size() < 3000) {
    for (int i = 0, n = 2 + int(rng() % 6); i < n; ++i) text += char('a' + rng() % 26);
    text += rng() % 9 == 0 ? ".\n" : " ";
  }
  const std::string text_path = dir + "/text.txt";
  std::ofstream(text_path) << text;
  const std::string out_dir = dir + "/out";
  const std::string arguments = "bench -i " + quote(model_path) +
                                " --precisions int4,fp16,q4_1,int8 -t 1,2 -p 8 -n 4 " + "--runs 2 --ppl-file " +
                                quote(text_path) + " --ppl-ctx 64 --out " + quote(out_dir);
  const RunResult first = run_phirun(arguments, 300);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("building"), std::string::npos) << first.err;

  const nlohmann::json json = nlohmann::json::parse(read_file(out_dir + "/report.json"));
  EXPECT_EQ(json["reference_precision"], "fp16");
  EXPECT_FALSE(json["machine"]["cpu_model"].get<std::string>().empty());
  const auto& rows = json["rows"];
  ASSERT_EQ(rows.size(), 8u) << json.dump(2);
  const char* expected_order[] = {"fp16", "fp16", "int8", "int8", "q4_1", "q4_1", "int4", "int4"};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["precision"], expected_order[i]);
    EXPECT_EQ(rows[i]["threads"], i % 2 == 0 ? 1 : 2);
    EXPECT_EQ(rows[i]["prefill_tokens_per_second"]["runs"].size(), 2u);
    EXPECT_GT(rows[i]["decode_tokens_per_second"]["median"].get<double>(), 0.0);
    EXPECT_LE(rows[i]["decode_tokens_per_second"]["p10"].get<double>(),
              rows[i]["decode_tokens_per_second"]["p90"].get<double>());
    EXPECT_GT(rows[i]["peak_rss_bytes"].get<double>(), 0.0);
    EXPECT_GT(rows[i]["ppl"].get<double>(), 1.0);
    EXPECT_NE(first.out.find(expected_order[i]), std::string::npos) << first.out;
  }
  // Smaller types give smaller files, and drift further from the reference.
  EXPECT_GT(rows[0]["file_bytes"].get<double>(), rows[2]["file_bytes"].get<double>());
  EXPECT_GT(rows[2]["file_bytes"].get<double>(), rows[4]["file_bytes"].get<double>());
  EXPECT_TRUE(rows[0]["kld_mean"].is_null());
  EXPECT_GT(rows[2]["kld_mean"].get<double>(), 0.0);
  EXPECT_GT(rows[4]["kld_mean"].get<double>(), rows[2]["kld_mean"].get<double>());
  EXPECT_GT(rows[6]["kld_mean"].get<double>(), rows[2]["kld_mean"].get<double>());
  EXPECT_GT(rows[4]["file_bytes"].get<double>(), rows[6]["file_bytes"].get<double>()) << "q4_1 stores a minimum";
  EXPECT_EQ(rows[2]["kld_mean"], rows[3]["kld_mean"]) << "one quality measurement per precision";

  // report.csv: the same rows, each number as in report.json.
  std::istringstream csv(read_file(out_dir + "/report.csv"));
  std::string line;
  std::vector<std::vector<std::string>> cells;
  while (std::getline(csv, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) row.push_back(field);
    if (line.back() == ',') row.emplace_back();
    cells.push_back(row);
  }
  ASSERT_EQ(cells.size(), 9u);
  const std::vector<std::string>& header = cells[0];
  auto json_value = [](const nlohmann::json& row, const std::string& column) -> nlohmann::json {
    for (const char* spread : {"prefill", "decode"})
      if (column.rfind(spread, 0) == 0)
        return row[std::string(spread) + "_tokens_per_second"][column.substr(std::string(spread).size() + 1)];
    return row[column];
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(cells[i + 1].size(), header.size()) << i;
    EXPECT_EQ(cells[i + 1][0], rows[i]["precision"]);
    for (size_t c = 1; c < header.size(); ++c) {
      const nlohmann::json value = json_value(rows[i], header[c]);
      if (value.is_null()) {
        EXPECT_EQ(cells[i + 1][c], "") << header[c];
      } else {
        EXPECT_EQ(std::stod(cells[i + 1][c]), value.get<double>()) << header[c] << " row " << i;
      }
    }
  }

  const RunResult second = run_phirun(arguments, 300);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.err.find("building"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("cached"), std::string::npos) << second.err;
  expect_one_error(run_phirun("bench -i " + quote(model_path) + " --precisions int3 --out " + quote(out_dir)),
                   "'int3' is not fp32");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace phirun
