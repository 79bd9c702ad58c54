// `phirun bench --precisions` end to end on a tiny F32 model: every precision at every thread count
// in the table, report.json, report.csv and report.svg with the same numbers, llama-bench's rows
// read from a committed sample, KL divergence against the highest precision, and the build cache
// reused only when every builder option matches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/tiny_model.h"
#include "tests/tools/cli_run.h"

namespace phirun {
namespace {

using namespace cli_test;

const std::string kLlamaBenchSample = std::string(PHIRUN_SOURCE_DIR) + "/tests/fixtures/llama_bench/smollm2-q4_0.json";

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::istringstream csv(text);
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
  return cells;
}

// The value of a CSV column in a report.json row ("decode_p10" -> decode_tokens_per_second.p10).
nlohmann::json json_value(const nlohmann::json& row, const std::string& column) {
  const std::pair<const char*, const char*> spreads[] = {{"prefill", "prefill_tokens_per_second"},
                                                         {"decode", "decode_tokens_per_second"},
                                                         {"first_token", "first_token_seconds"}};
  for (const auto& [prefix, key] : spreads) {
    const std::string p = std::string(prefix) + "_";
    if (column.rfind(p, 0) == 0 && column.find('_', p.size()) == std::string::npos) {
      if (row[key].is_null()) return nullptr;
      return row[key][column.substr(p.size())];
    }
  }
  return row[column];
}

// The attributes of each point of report.svg: engine/precision/threads -> attribute -> value.
// (Scanned by hand: std::regex trips GCC 12's -Wmaybe-uninitialized in the sanitizer build.)
std::map<std::string, std::map<std::string, std::string>> svg_points(const std::string& svg) {
  std::map<std::string, std::map<std::string, std::string>> points;
  for (size_t at = svg.find("<g data-"); at != std::string::npos; at = svg.find("<g data-", at + 1)) {
    const size_t end = svg.find('>', at);
    if (end == std::string::npos) break;
    const std::string group = svg.substr(at + 3, end - at - 3);  // data-a="x" data-b="y" ...
    std::map<std::string, std::string> values;
    for (size_t name = group.find("data-"); name != std::string::npos; name = group.find("data-", name + 1)) {
      const size_t equals = group.find("=\"", name);
      if (equals == std::string::npos) break;
      const size_t close = group.find('"', equals + 2);
      if (close == std::string::npos) break;
      values[group.substr(name + 5, equals - name - 5)] = group.substr(equals + 2, close - equals - 2);
      name = close;
    }
    points[values["engine"] + "/" + values["precision"] + "/" + values["threads"]] = values;
  }
  return points;
}

std::string table_spread(const nlohmann::json& spread) {
  char text[96];
  std::snprintf(text, sizeof text, "%.1f [%.1f, %.1f]", spread["median"].get<double>(), spread["p10"].get<double>(),
                spread["p90"].get<double>());
  return text;
}

class BenchPrecisions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "phirun_bench_precisions_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    model_ = dir_ + "/tiny-f32.gguf";
    testing::TinyModelOptions options;
    options.matrix_type = TensorType::F32;
    testing::write_tiny_llama_gguf(model_, options);
    out_ = dir_ + "/out";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, model_, out_;
};

TEST_F(BenchPrecisions, WritesConsistentReports) {
  // Text of random lowercase words: the tiny vocabulary spells it nearly a byte per token, so
  // 3000 bytes give several 64-token chunks.
  std::mt19937 rng(7);
  std::string text;
  while (text.size() < 3000) {
    for (int i = 0, n = 2 + int(rng() % 6); i < n; ++i) text += char('a' + rng() % 26);
    text += rng() % 9 == 0 ? ".\n" : " ";
  }
  const std::string text_path = dir_ + "/text.txt";
  std::ofstream(text_path) << text;
  const std::string arguments = "bench -i " + quote(model_) + " --precisions int4,fp16,q4_1,int8 -t 1,2 -p 8 -n 4 " +
                                "--runs 2 --ppl-file " + quote(text_path) + " --ppl-ctx 64 --out " + quote(out_) +
                                " --compare-llama-bench " + quote(kLlamaBenchSample);
  const RunResult first = run_phirun(arguments, 300);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("int8: built "), std::string::npos) << first.err;
  // Stderr is not a terminal here: one plain progress line per step: for each of the 4
  // precisions its build, 2 thread counts and perplexity, then the read-bandwidth probes.
  EXPECT_NE(first.err.find("[1/17] preparing the fp16 file"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("[15/17] measuring int4 at 2 threads ("), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("[16/17] perplexity of int4 ("), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("[17/17] measuring the read bandwidth"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("left)"), std::string::npos) << first.err;

  const nlohmann::json json = nlohmann::json::parse(read_file(out_ + "/report.json"));
  EXPECT_EQ(json["reference_precision"], "fp16");
  EXPECT_FALSE(json["machine"]["cpu_model"].get<std::string>().empty());
  for (const char* threads : {"1", "2"}) EXPECT_GT(json["machine"]["read_bandwidth_gbps"][threads].get<double>(), 0.1);
  EXPECT_GE(json["machine"]["memory_probe_bytes"].get<double>(), double(1 << 30)) << "main memory, not a cache";
  const auto& rows = json["rows"];
  ASSERT_EQ(rows.size(), 10u) << json.dump(2);
  const char* expected_order[] = {"fp16", "fp16", "int8", "int8", "q4_1", "q4_1", "int4", "int4", "Q4_0", "Q4_0"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const nlohmann::json& row = rows[i];
    EXPECT_EQ(row["engine"], i < 8 ? "phirun" : "llama.cpp");
    EXPECT_EQ(row["precision"], expected_order[i]);
    EXPECT_EQ(row["threads"], i % 2 == 0 ? 1 : 2);
    EXPECT_EQ(row["prefill_tokens_per_second"]["runs"].size(), 2u);
    EXPECT_GT(row["decode_tokens_per_second"]["median"].get<double>(), 0.0);
    EXPECT_LE(row["decode_tokens_per_second"]["p10"].get<double>(),
              row["decode_tokens_per_second"]["p90"].get<double>());
    // Roofline: the row's own read probe / bytes per token, and decode's share of it.
    EXPECT_GT(row["bytes_per_token"].get<double>(), 0.0);
    const double bandwidth = row["read_gbps"].get<double>();
    EXPECT_GT(bandwidth, 0.1) << i;
    EXPECT_NEAR(row["roofline_tokens_per_second"].get<double>(), bandwidth * 1e9 / row["bytes_per_token"].get<double>(),
                1e-9 * row["roofline_tokens_per_second"].get<double>());
    EXPECT_NEAR(
        row["roofline_fraction"].get<double>(),
        row["decode_tokens_per_second"]["median"].get<double>() / row["roofline_tokens_per_second"].get<double>(),
        1e-12);
    // The table shows each row's decode spread as report.json has it.
    EXPECT_NE(first.out.find(table_spread(row["decode_tokens_per_second"])), std::string::npos) << i << first.out;
    if (i >= 8) continue;
    EXPECT_GT(row["peak_rss_bytes"].get<double>(), 0.0);
    EXPECT_GT(row["ppl"].get<double>(), 1.0);
    // Time to first token: the 8-token prompt read and the first token picked, so at least about
    // as long as the prefill alone (medians of separate runs, hence the margin).
    const double prefill_seconds = 8.0 / row["prefill_tokens_per_second"]["median"].get<double>();
    EXPECT_GT(row["first_token_seconds"]["median"].get<double>(), 0.5 * prefill_seconds) << i;
    EXPECT_EQ(row["first_token_seconds"]["runs"].size(), 2u);
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
  // llama-bench's rows as the sample has them: Q4_0, 89941248 bytes, pp64 and tg16 samples.
  EXPECT_EQ(rows[8]["file_bytes"], 89941248u);
  EXPECT_EQ(rows[8]["prefill_tokens_per_second"]["runs"], nlohmann::json::parse("[142.795, 120.481]"));
  EXPECT_EQ(rows[9]["decode_tokens_per_second"]["runs"], nlohmann::json::parse("[0.733003, 1.11953]"));
  EXPECT_TRUE(rows[8]["load_seconds"].is_null());
  EXPECT_TRUE(rows[8]["kld_mean"].is_null());

  // report.csv: the same rows, each number as in report.json.
  const std::vector<std::vector<std::string>> cells = csv_rows(read_file(out_ + "/report.csv"));
  ASSERT_EQ(cells.size(), rows.size() + 1);
  const std::vector<std::string>& header = cells[0];
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(cells[i + 1].size(), header.size()) << i;
    EXPECT_EQ(cells[i + 1][0], rows[i]["engine"]);
    EXPECT_EQ(cells[i + 1][1], rows[i]["precision"]);
    for (size_t c = 2; c < header.size(); ++c) {
      const nlohmann::json value = json_value(rows[i], header[c]);
      if (value.is_null()) {
        EXPECT_EQ(cells[i + 1][c], "") << header[c] << " row " << i;
      } else {
        EXPECT_EQ(std::stod(cells[i + 1][c]), value.get<double>()) << header[c] << " row " << i;
      }
    }
  }

  // report.svg: one point per row, with the same decode speed, KLD and file size.
  const std::string svg = read_file(out_ + "/report.svg");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find(json["machine"]["cpu_model"].get<std::string>()), std::string::npos) << "machine facts on top";
  const auto points = svg_points(svg);
  EXPECT_EQ(points.size(), rows.size());
  for (const nlohmann::json& row : rows) {
    const std::string key = row["engine"].get<std::string>() + "/" + row["precision"].get<std::string>() + "/" +
                            std::to_string(row["threads"].get<int>());
    ASSERT_TRUE(points.count(key)) << key;
    const auto& point = points.at(key);
    EXPECT_EQ(std::stod(point.at("decode-median")), row["decode_tokens_per_second"]["median"].get<double>()) << key;
    EXPECT_EQ(std::stod(point.at("file-bytes")), row["file_bytes"].get<double>()) << key;
    if (row["kld_mean"].is_null())
      EXPECT_EQ(point.at("kld"), "") << key;
    else
      EXPECT_EQ(std::stod(point.at("kld")), row["kld_mean"].get<double>()) << key;
  }

  const RunResult second = run_phirun(arguments, 300);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.err.find(": built "), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("int8: cached "), std::string::npos) << second.err;
}

// Every builder option is part of the cache key: a changed one builds again, the same one reuses.
TEST_F(BenchPrecisions, BuilderOptionsAreInTheCacheKey) {
  const std::string common = "bench -i " + quote(model_) + " -t 1 -p 4 -n 2 --runs 1 --out " + quote(out_);
  const std::string base = common + " --precisions int4";
  const RunResult plain = run_phirun(base, 120);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.err.find("int4: built "), std::string::npos) << plain.err;
  for (const std::string& option :
       {std::string("--embed-precision fp16"), std::string("--lm-head-precision int8"), std::string("--search-steps 3"),
        std::string("--plain-rounding"), std::string("--value-weighting square")}) {
    const RunResult changed = run_phirun(base + " " + option, 120);
    ASSERT_EQ(changed.exit_code, 0) << changed.err;
    EXPECT_NE(changed.err.find("int4: built "), std::string::npos) << option << ": " << changed.err;
  }
  const RunResult again = run_phirun(base + " --embed-precision fp16", 120);
  EXPECT_NE(again.err.find("int4: cached "), std::string::npos) << again.err;
  const RunResult other_type = run_phirun(common + " --precisions q4_1", 120);
  EXPECT_NE(other_type.err.find("q4_1: built "), std::string::npos) << other_type.err;
}

TEST_F(BenchPrecisions, BadInputGivesOneClearError) {
  const std::string base = "bench -i " + quote(model_) + " --out " + quote(out_) + " ";
  expect_one_error(run_phirun(base + "--precisions int3"), "'int3' is not fp32");
  const std::string not_json = dir_ + "/not-json.json";
  std::ofstream(not_json) << "pp512 | 123.4 t/s";
  expect_one_error(run_phirun(base + "--precisions int4 --compare-llama-bench " + quote(not_json)),
                   not_json + ": not JSON (expected the output of llama-bench -o json)");
  const std::string missing_rate = dir_ + "/missing-rate.json";
  std::ofstream(missing_rate) << R"([{"model_type": "llama 1B Q4_0", "model_size": 1000, "model_n_params": 2000,
                                    "n_threads": 2, "n_prompt": 64, "n_gen": 0}])";
  expect_one_error(run_phirun(base + "--precisions int4 --compare-llama-bench " + quote(missing_rate)),
                   missing_rate + ": test 1: no number 'avg_ts'");
  const std::string object = dir_ + "/object.json";
  std::ofstream(object) << R"({"model_type": "llama 1B Q4_0"})";
  expect_one_error(run_phirun(base + "--precisions int4 --compare-llama-bench " + quote(object)),
                   object + ": not a JSON array of tests");
  // The errors come before any build.
  EXPECT_FALSE(std::filesystem::exists(out_));
}

}  // namespace
}  // namespace phirun
