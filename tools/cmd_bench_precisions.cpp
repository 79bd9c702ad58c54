// `phirun bench --precisions fp16,int8,int4 -i INPUT`: builds each precision with the builder
// (cached in --out by a hash of the input and the build options), then measures each at each
// thread count: size, bits per weight, load time, peak RSS, prefill and decode tokens/s, and with
// --ppl-file perplexity and KL divergence against the highest precision asked for.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>

#include "models/builder/build.h"
#include "runtime/perplexity.h"
#include "tools/bench_report.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "tools/interrupt_guard.h"

namespace phirun::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) items.push_back(item);
  return items;
}

// FNV-1a 64 over the bytes of `path` (a file, or every regular file of a folder in name order,
// with its relative name), so a changed input never reuses an old build.
uint64_t hash_input(const fs::path& path, uint64_t hash = 14695981039346656037ull) {
  auto mix = [&](const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) hash = (hash ^ uint8_t(data[i])) * 1099511628211ull;
  };
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
    mix(name.data(), name.size());
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot open");
    while (in.read(buffer.data(), std::streamsize(buffer.size())) || in.gcount() > 0)
      mix(buffer.data(), size_t(in.gcount()));
  }
  return hash;
}

// A --precisions name: the builder policy it means, and its rank (the highest-ranked name asked
// for is the KL divergence reference). int4 is the builder's default INT4 block, q4_0.
struct BenchPrecision {
  const char* name;
  builder::Precision precision;
  TensorType int4_type;
  int rank;
};
constexpr BenchPrecision kBenchPrecisions[] = {
    {"fp32", builder::Precision::FP32, TensorType::Q4_0, 6}, {"fp16", builder::Precision::FP16, TensorType::Q4_0, 5},
    {"bf16", builder::Precision::BF16, TensorType::Q4_0, 4}, {"int8", builder::Precision::INT8, TensorType::Q4_0, 3},
    {"q4_1", builder::Precision::INT4, TensorType::Q4_1, 2}, {"int4", builder::Precision::INT4, TensorType::Q4_0, 1},
    {"q4_0", builder::Precision::INT4, TensorType::Q4_0, 1},
};

const BenchPrecision* find_precision(const std::string& name) {
  for (const BenchPrecision& p : kBenchPrecisions)
    if (name == p.name) return &p;
  return nullptr;
}

// Resets the kernel's peak-RSS mark (Linux >= 4.0), so each model's peak is its own; false when
// the kernel refuses, and the peak is then the process's since it started.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return bool(out);
}

uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

struct BuiltModel {
  std::string precision, path;
  int64_t parameters = 0;
};

// The cached file when it and its sidecar exist (unless `rebuild`), else a fresh build.
BuiltModel build_cached(const std::string& input, uint64_t input_hash, const std::string& precision,
                        const std::string& out_dir, bool rebuild, int threads) {
  builder::BuildOptions options;
  options.cancel = &InterruptGuard::interrupted();
  options.input = input;
  options.policy.precision = find_precision(precision)->precision;
  options.policy.int4_type = find_precision(precision)->int4_type;
  options.threads = threads;
  char key[64];
  std::snprintf(key, sizeof key, "%016llx-%s", static_cast<unsigned long long>(input_hash), precision.c_str());
  const fs::path model_path = fs::path(out_dir) / (std::string(key) + ".gguf");
  const fs::path sidecar_path = fs::path(out_dir) / (std::string(key) + ".json");
  BuiltModel built{precision, model_path.string(), 0};
  if (!rebuild && fs::exists(model_path) && fs::exists(sidecar_path)) {
    std::ifstream in(sidecar_path);
    const nlohmann::json sidecar = nlohmann::json::parse(in, nullptr, false);
    if (!sidecar.is_discarded() && sidecar.contains("parameters")) {
      built.parameters = sidecar["parameters"].get<int64_t>();
      std::fprintf(stderr, "phirun: %s: cached %s\n", precision.c_str(), model_path.c_str());
      return built;
    }
  }
  fs::remove(sidecar_path);
  options.output = model_path.string();
  options.force = true;
  std::fprintf(stderr, "phirun: %s: building %s\n", precision.c_str(), model_path.c_str());
  const builder::BuildSummary summary = builder::build_model(options);
  built.parameters = summary.parameters;
  std::ofstream(sidecar_path)
      << nlohmann::json{{"input", input}, {"precision", precision}, {"parameters", summary.parameters}}.dump() << "\n";
  return built;
}

std::vector<int32_t> random_tokens(int n, int64_t vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> pick(0, int32_t(vocab - 1));
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int32_t& t : tokens) t = pick(rng);
  return tokens;
}

// Tokens/s of `runs` timed repetitions of `step` after one warm-up.
template <typename Step>
Spread time_runs(int runs, int tokens, Step step) {
  step();
  std::vector<double> rates;
  for (int r = 0; r < runs; ++r) {
    if (InterruptGuard::interrupted().load()) throw std::runtime_error("benchmark interrupted");
    const auto start = Clock::now();
    step();
    rates.push_back(double(tokens) / seconds_since(start));
  }
  return spread_of(rates);
}

void write_file(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    if (!out.flush()) throw std::runtime_error(path.string() + ": cannot write");
  }
  fs::rename(temporary, path);
}

}  // namespace

int bench_precisions_command(int argc, char** argv) {
  CLI::App app{
      "Build a model at each precision and measure speed, memory and quality side by side.\n"
      "Example: phirun bench --precisions fp16,int8,int4 -i model.gguf -t 1,2 --ppl-file wiki.test.raw",
      "phirun bench --precisions"};
  std::string input, precision_list, thread_list = std::to_string(ThreadPool::physical_core_count());
  std::string ppl_file, out_dir = "phirun-bench";
  int prompt_tokens = 512, decode_tokens = 128, runs = 3;
  int64_t ppl_context = 512, ppl_chunks = 0;
  bool rebuild = false;
  ModelFlags flags;
  app.add_option("-i,--input", input, "Hugging Face model folder or GGUF file to build each precision from")
      ->required();
  app.add_option("--precisions", precision_list, "comma-separated: fp32, fp16, bf16, int8, int4 (q4_0), q4_1")
      ->required();
  app.add_option("-t,--threads", thread_list, "comma-separated thread counts (default: physical cores)");
  app.add_option("-p,--n-prompt", prompt_tokens, "prompt tokens processed in one batch (0: skip)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("-n,--n-gen", decode_tokens, "tokens decoded one at a time (0: skip)")->check(CLI::Range(0, 1 << 20));
  app.add_option("-r,--runs", runs, "timed runs per test, after one warm-up run")->check(CLI::Range(1, 1000));
  app.add_option("--ppl-file", ppl_file, "text for perplexity and KL divergence against the highest precision");
  app.add_option("--ppl-ctx", ppl_context, "perplexity chunk length (default 512, capped at the model's context)")
      ->check(CLI::Range(int64_t(8), int64_t(1) << 20));
  app.add_option("--ppl-chunks", ppl_chunks, "score at most N chunks (default: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--out", out_dir, "folder for the built models and the reports (default phirun-bench)");
  app.add_flag("--rebuild", rebuild, "build every precision again even when cached");
  app.add_option("--accuracy", flags.accuracy, "activations of integer-weight matmuls: float, int16 or int8")
      ->check(CLI::IsMember({"float", "int16", "int8"}));
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  std::vector<std::string> precisions = split_list(precision_list);
  if (precisions.empty()) throw std::runtime_error("--precisions: no precision given");
  for (const std::string& p : precisions)
    if (!find_precision(p))
      throw std::runtime_error("--precisions " + precision_list + ": '" + p +
                               "' is not fp32, fp16, bf16, int8, int4, q4_0 or q4_1");
  // Highest precision first: it is the KL divergence reference, its log-probabilities saved first.
  std::stable_sort(precisions.begin(), precisions.end(), [](const std::string& a, const std::string& b) {
    return find_precision(a)->rank > find_precision(b)->rank;
  });
  precisions.erase(std::unique(precisions.begin(), precisions.end()), precisions.end());
  std::vector<int> thread_counts;
  for (const std::string& t : split_list(thread_list)) {
    char* end = nullptr;
    const long n = std::strtol(t.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1024) throw std::runtime_error("-t " + thread_list + ": expected counts like 1,2");
    thread_counts.push_back(int(n));
  }
  if (thread_counts.empty()) throw std::runtime_error("-t: no thread count given");
  if (!fs::exists(input)) throw std::runtime_error(input + ": no such file or folder");
  std::string ppl_text;
  if (!ppl_file.empty()) {
    std::ifstream in(ppl_file, std::ios::binary);
    if (!in) throw std::runtime_error(ppl_file + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    ppl_text = text.str();
  }
  fs::create_directories(out_dir);

  PrecisionReport report;
  report.machine = machine_facts();
  report.machine.phirun_version = PHIRUN_VERSION;
  report.machine.phirun_commit = PHIRUN_COMMIT;
  report.input = input;
  report.reference_precision = precisions.front();
  report.ppl_file = ppl_file;
  report.prompt_tokens = prompt_tokens;
  report.decode_tokens = decode_tokens;
  report.runs = runs;
  const int max_threads = *std::max_element(thread_counts.begin(), thread_counts.end());
  // The commit joins the key: another builder may write other bytes for the same input.
  const uint64_t input_hash = hash_input(input) ^ std::hash<std::string>{}(PHIRUN_COMMIT);
  const fs::path kld_base = fs::path(out_dir) / "reference-logprobs.bin";
  bool rss_per_model = true;

  InterruptGuard guard;
  try {
    for (const std::string& precision : precisions) {
      const BuiltModel built = build_cached(input, input_hash, precision, out_dir, rebuild, max_threads);
      const uint64_t file_bytes = fs::file_size(built.path);
      std::optional<PerplexityResult> quality;
      for (int threads : thread_counts) {
        std::fprintf(stderr, "phirun: %s: measuring at %d thread%s\n", precision.c_str(), threads,
                     threads == 1 ? "" : "s");
        rss_per_model = reset_peak_rss() && rss_per_model;
        flags.model_path = built.path;
        flags.threads = threads;
        flags.context = std::max({prompt_tokens, decode_tokens, 8});
        const auto load_start = Clock::now();
        std::unique_ptr<Model> model = load_model(flags);
        PrecisionRow row;
        row.load_seconds = seconds_since(load_start);
        row.precision = precision;
        row.threads = threads;
        row.file_bytes = file_bytes;
        row.parameters = built.parameters;
        row.bits_per_weight = 8.0 * double(file_bytes) / double(std::max<int64_t>(built.parameters, 1));
        {
          Session session(*model, session_options(flags));
          std::mt19937 rng(1234);
          const int64_t vocab = model->config().vocab_size;
          if (prompt_tokens > 0) {
            const std::vector<int32_t> tokens = random_tokens(prompt_tokens, vocab, rng);
            row.prefill = time_runs(runs, prompt_tokens, [&] {
              session.rewind_to(0);
              session.append(tokens);
            });
          }
          if (decode_tokens > 0) {
            const std::vector<int32_t> tokens = random_tokens(decode_tokens, vocab, rng);
            row.decode = time_runs(runs, decode_tokens, [&] {
              session.rewind_to(0);
              for (int32_t token : tokens) session.append(std::span<const int32_t>(&token, 1));
            });
          }
        }
        // Perplexity once per precision (it does not depend on threads), at the most threads.
        if (!ppl_text.empty() && threads == max_threads) {
          PerplexityOptions options;
          options.context = std::min<int64_t>(ppl_context, model->config().context_length);
          options.max_chunks = ppl_chunks;
          options.kld_base = kld_base.string();
          options.kv_type = session_options(flags).kv_type;
          options.cancel = &InterruptGuard::interrupted();
          if (precision == report.reference_precision) fs::remove(kld_base);
          report.ppl_context = options.context;
          quality = compute_perplexity(*model, ppl_text, ppl_file, options);
        }
        row.peak_rss_bytes = peak_rss_bytes();
        model.reset();
        report.rows.push_back(row);
      }
      if (quality)  // every thread count's row of this precision gets the one quality measurement
        for (PrecisionRow& row : report.rows)
          if (row.precision == precision) {
            row.ppl = quality->ppl;
            row.ppl_error = quality->ppl_error;
            if (quality->kld) {
              row.kld_mean = quality->kld->mean;
              row.same_top = quality->kld->same_top;
              row.delta_p_rms = quality->kld->delta_p_rms;
            }
          }
    }
  } catch (const std::exception&) {
    // Ctrl-C: keep what was measured (whole rows only); any other error goes up as usual.
    if (!InterruptGuard::interrupted().load()) throw;
    report.interrupted = true;
  }
  report.machine.peak_rss_scope = rss_per_model ? "per model (VmHWM reset before each load)" : "process (cumulative)";

  const std::string table = report_table(report);
  std::fputs(table.c_str(), stdout);
  write_file(fs::path(out_dir) / "report.json", report_json(report));
  write_file(fs::path(out_dir) / "report.csv", report_csv(report));
  std::fprintf(stderr, "phirun: wrote %s and %s\n", (fs::path(out_dir) / "report.json").c_str(),
               (fs::path(out_dir) / "report.csv").c_str());
  if (report.interrupted) {
    std::fprintf(stderr, "phirun: interrupted: the reports hold the %zu rows measured before it\n", report.rows.size());
    return 130;
  }
  return 0;
}

}  // namespace phirun::cli
