// Reads llama-bench's JSON: an array of test objects with model_filename, model_type ("llama 1B
// Q4_0"), model_size (bytes of the tensors), model_n_params, n_threads, n_prompt, n_gen, n_depth,
// avg_ts and samples_ts. A pp test (n_prompt > 0, n_gen 0) gives prefill, a tg test decode.
#include "tools/llama_bench_json.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace phirun::cli {

namespace {

const nlohmann::json& field(const nlohmann::json& test, const char* name, bool number, const std::string& where) {
  if (!test.contains(name) || (number ? !test[name].is_number() : !test[name].is_string()))
    throw std::runtime_error(where + ": no " + (number ? "number" : "string") + " '" + name +
                             "' (expected the output of llama-bench -o json)");
  return test[name];
}

// The rate of each run: samples_ts when llama-bench wrote them, else its average alone.
Spread rates_of(const nlohmann::json& test, const std::string& where) {
  const double average = field(test, "avg_ts", true, where).get<double>();
  if (!(average > 0)) throw std::runtime_error(where + ": avg_ts " + test["avg_ts"].dump() + " is not a positive rate");
  std::vector<double> runs;
  if (test.contains("samples_ts") && test["samples_ts"].is_array())
    for (const nlohmann::json& sample : test["samples_ts"]) {
      if (!sample.is_number() || !(sample.get<double>() > 0))
        throw std::runtime_error(where + ": samples_ts holds " + sample.dump() + ", not a positive rate");
      runs.push_back(sample.get<double>());
    }
  if (runs.empty()) runs.push_back(average);
  return spread_of(runs);
}

// "llama 256M Q4_0" -> "Q4_0": the type is the last word of model_type.
std::string type_of(const std::string& model_type) {
  const size_t space = model_type.find_last_of(' ');
  return space == std::string::npos ? model_type : model_type.substr(space + 1);
}

}  // namespace

std::vector<PrecisionRow> read_llama_bench_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  const nlohmann::json tests = nlohmann::json::parse(text.str(), nullptr, false);
  if (tests.is_discarded()) throw std::runtime_error(path + ": not JSON (expected the output of llama-bench -o json)");
  if (!tests.is_array())
    throw std::runtime_error(path + ": not a JSON array of tests (expected the output of llama-bench -o json)");

  std::map<std::pair<std::string, int>, PrecisionRow> rows;  // by model file and thread count
  std::vector<std::pair<std::string, int>> order;
  for (size_t i = 0; i < tests.size(); ++i) {
    const std::string where = path + ": test " + std::to_string(i + 1);
    const nlohmann::json& test = tests[i];
    if (!test.is_object())
      throw std::runtime_error(where + ": not a JSON object (expected llama-bench -o json output)");
    const std::string model_type = field(test, "model_type", false, where).get<std::string>();
    const std::string file = test.contains("model_filename") && test["model_filename"].is_string()
                                 ? test["model_filename"].get<std::string>()
                                 : model_type;
    const int64_t threads = field(test, "n_threads", true, where).get<int64_t>();
    const int64_t prompt = field(test, "n_prompt", true, where).get<int64_t>();
    const int64_t gen = field(test, "n_gen", true, where).get<int64_t>();
    const double size = field(test, "model_size", true, where).get<double>();
    const double parameters = field(test, "model_n_params", true, where).get<double>();
    if (threads < 1 || threads > 1 << 16 || prompt < 0 || gen < 0 || !(size > 0) || !(parameters > 0))
      throw std::runtime_error(where + ": n_threads, n_prompt, n_gen, model_size or model_n_params out of range");
    const bool at_depth = test.contains("n_depth") && test["n_depth"].is_number() && test["n_depth"].get<int64_t>() > 0;
    if (at_depth || (prompt > 0) == (gen > 0)) continue;  // pg and depth tests have no counterpart here
    const auto key = std::make_pair(file, int(threads));
    if (!rows.count(key)) {
      order.push_back(key);
      PrecisionRow& row = rows[key];
      row.engine = "llama.cpp";
      row.precision = type_of(model_type);
      row.threads = int(threads);
      row.file_bytes = uint64_t(size);
      row.parameters = int64_t(parameters);
      row.bits_per_weight = 8.0 * size / parameters;
      row.bytes_per_token = uint64_t(size);  // llama.cpp's model_size: the bytes of every tensor
    }
    (prompt > 0 ? rows[key].prefill : rows[key].decode) = rates_of(test, where);
  }
  if (order.empty()) throw std::runtime_error(path + ": no prompt (pp) or generation (tg) test at depth 0 in it");
  std::vector<PrecisionRow> result;
  for (const auto& key : order) result.push_back(rows[key]);
  return result;
}

}  // namespace phirun::cli
