// Builds each precision once: the file is named by a hash of its key, and its sidecar JSON holds
// the key itself, so a reuse needs the exact same options (a hash collision cannot pass).
// Calibration statistics are cached too: they depend on the input and the text, not the precision.
#include "tools/bench_build_cache.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <vector>

#include "runtime/build_info.h"

namespace phirun::cli {

namespace {

namespace fs = std::filesystem;

constexpr BenchPrecision kBenchPrecisions[] = {
    {"fp32", builder::Precision::FP32, TensorType::Q4_0, 6}, {"fp16", builder::Precision::FP16, TensorType::Q4_0, 5},
    {"bf16", builder::Precision::BF16, TensorType::Q4_0, 4}, {"int8", builder::Precision::INT8, TensorType::Q4_0, 3},
    {"q4_1", builder::Precision::INT4, TensorType::Q4_1, 2}, {"int4", builder::Precision::INT4, TensorType::Q4_0, 1},
    {"q4_0", builder::Precision::INT4, TensorType::Q4_0, 1},
};

constexpr uint64_t kFnvOffset = 14695981039346656037ull;

uint64_t fnv1a(const char* data, size_t n, uint64_t hash = kFnvOffset) {
  for (size_t i = 0; i < n; ++i) hash = (hash ^ uint8_t(data[i])) * 1099511628211ull;
  return hash;
}

std::string hex(uint64_t value) {
  char text[20];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::optional<builder::Precision> precision_option(const std::string& value, const char* flag) {
  if (value.empty()) return std::nullopt;
  const auto precision = builder::parse_precision(value);
  if (!precision) throw std::runtime_error(std::string(flag) + " " + value + ": use fp32, fp16, bf16, int8 or int4");
  return precision;
}

}  // namespace

const BenchPrecision* find_bench_precision(const std::string& name) {
  for (const BenchPrecision& p : kBenchPrecisions)
    if (name == p.name) return &p;
  return nullptr;
}

uint64_t hash_input(const std::string& input) {
  const fs::path path(input);
  uint64_t hash = kFnvOffset;
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::recursive_directory_iterator(path))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<char> buffer(1 << 20);
  for (const fs::path& file : files) {
    const std::string name = fs::relative(file, fs::is_directory(path) ? path : path.parent_path()).string();
    hash = fnv1a(name.data(), name.size(), hash);
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot open");
    while (in.read(buffer.data(), std::streamsize(buffer.size())) || in.gcount() > 0)
      hash = fnv1a(buffer.data(), size_t(in.gcount()), hash);
  }
  return hash;
}

std::string build_key(const BenchBuildOptions& o, const std::string& precision) {
  const BenchPrecision& p = *find_bench_precision(precision);
  const char* weighting = o.search.weighting == ValueWeighting::Square        ? "square"
                          : o.search.weighting == ValueWeighting::SigmaSquare ? "sigma-square"
                                                                              : "uniform";
  std::string key = "input=" + hex(o.input_hash) + ";commit=" + build_commit() +
                    ";precision=" + std::string(builder::precision_name(p.precision)) +
                    ";int4_type=" + std::string(type_name(p.int4_type)) + ";embed=" + o.embed_precision +
                    ";lm_head=" + o.lm_head_precision + ";search_steps=" + std::to_string(o.search.steps) +
                    ";weighting=" + weighting + ";plain_rounding=" + (o.search.plain_rounding ? "1" : "0");
  if (!o.calibration_text.empty())
    key += ";calibration=" + hex(o.calibration_hash) + ";calib_ctx=" + std::to_string(o.calibration_context) +
           ";calib_chunks=" + std::to_string(o.calibration_chunks) + ";gptq=" + (o.gptq ? "1" : "0");
  return key + ";";
}

BuiltModel build_cached(const BenchBuildOptions& o, const std::string& precision, const std::string& out_dir,
                        bool rebuild, const std::atomic<bool>* cancel, const std::function<void()>& on_tick) {
  const std::string key = build_key(o, precision);
  const std::string stem = precision + "-" + hex(fnv1a(key.data(), key.size()));
  const fs::path model_path = fs::path(out_dir) / (stem + ".gguf");
  const fs::path sidecar_path = fs::path(out_dir) / (stem + ".json");
  BuiltModel built{precision, model_path.string(), 0, false};
  if (!rebuild && fs::exists(model_path) && fs::exists(sidecar_path)) {
    std::ifstream in(sidecar_path);
    const nlohmann::json sidecar = nlohmann::json::parse(in, nullptr, false);
    if (!sidecar.is_discarded() && sidecar.value("key", "") == key && sidecar.contains("parameters") &&
        sidecar["parameters"].is_number_integer()) {
      built.parameters = sidecar["parameters"].get<int64_t>();
      built.cached = true;
      return built;
    }
  }
  fs::remove(sidecar_path);
  const BenchPrecision& p = *find_bench_precision(precision);
  builder::BuildOptions options;
  options.cancel = cancel;
  options.input = o.input;
  options.output = model_path.string();
  options.force = true;
  options.threads = o.threads;
  options.policy.precision = p.precision;
  options.policy.int4_type = p.int4_type;
  options.policy.embed = precision_option(o.embed_precision, "--embed-precision");
  options.policy.lm_head = precision_option(o.lm_head_precision, "--lm-head-precision");
  options.search = o.search;
  if (!o.calibration_text.empty()) {
    options.calibration_text = o.calibration_text;
    options.calibration_context = o.calibration_context;
    options.calibration_chunks = o.calibration_chunks;
    options.gptq = o.gptq;
    const std::string calibration_key =
        "input=" + hex(o.input_hash) + ";commit=" + build_commit() + ";calibration=" + hex(o.calibration_hash) +
        ";calib_ctx=" + std::to_string(o.calibration_context) +
        ";calib_chunks=" + std::to_string(o.calibration_chunks) + ";gptq=" + (o.gptq ? "1" : "0");
    options.calibration_cache =
        (fs::path(out_dir) / ("calibration-" + hex(fnv1a(calibration_key.data(), calibration_key.size())) + ".bin"))
            .string();
  }
  options.on_progress = [&](const builder::BuildProgress&) { on_tick(); };
  const builder::BuildSummary summary = builder::build_model(options);
  built.parameters = summary.parameters;
  std::ofstream sidecar(sidecar_path);
  sidecar << nlohmann::json{{"input", o.input},
                            {"precision", precision},
                            {"key", key},
                            {"parameters", summary.parameters}}
                 .dump()
          << "\n";
  if (!sidecar.flush()) throw std::runtime_error(sidecar_path.string() + ": cannot write");
  return built;
}

}  // namespace phirun::cli
