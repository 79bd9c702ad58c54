// `phirun bench --precisions fp16,int8,int4 -i INPUT`: builds each precision with the builder
// (cached in --out by every option that changes the file), then measures each at each thread
// count: size, bits per weight, load time, peak RSS, prefill and decode tokens/s, time to first
// token, the fraction of the read roofline decode reached, and with --ppl-file perplexity and KL
// divergence against the highest precision asked for. Writes a table, JSON, CSV and SVG.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "kernels/cpu/read_probe.h"
#include "runtime/build_info.h"
#include "runtime/perplexity.h"
#include "tools/bench_build_cache.h"
#include "tools/bench_progress.h"
#include "tools/bench_report.h"
#include "tools/bench_svg.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "tools/interrupt_guard.h"
#include "tools/llama_bench_json.h"

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

// Resets the kernel's peak-RSS mark (Linux >= 4.0), so each model's peak is its own; false when
// the kernel refuses, and the peak is then the process's since it started. The mark restarts at
// the current RSS, so the heap that earlier models and perplexity freed goes back to the system
// first (glibc keeps it otherwise, and a 92 MB model would show the 500 MB of an earlier one).
bool reset_peak_rss() {
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
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

// Bytes of weights one decoded token reads: every tensor of the file once, except an untied
// token embedding, of which only the token's row is read.
uint64_t bytes_per_token(const Model& model) {
  uint64_t bytes = 0, embedding = 0;
  bool untied = false;
  for (const GgufTensor& tensor : model.file().tensors()) {
    bytes += tensor.n_bytes;
    if (tensor.name == "token_embd.weight") embedding = tensor.n_bytes - tensor.n_bytes / uint64_t(tensor.rows());
    if (tensor.name == "output.weight") untied = true;
  }
  return untied ? bytes - embedding : bytes;
}

std::vector<int32_t> random_tokens(int n, int64_t vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> pick(0, int32_t(vocab - 1));
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int32_t& t : tokens) t = pick(rng);
  return tokens;
}

void check_interrupt() {
  if (InterruptGuard::interrupted().load()) throw std::runtime_error("benchmark interrupted");
}

// Prefill tokens/s and time to first token (the prompt read, then the first token picked from its
// logits, greedily) of `runs` timed runs after one warm-up; decode tokens/s likewise.
void measure_speed(Model& model, const SessionOptions& options, int prompt_tokens, int decode_tokens, int runs,
                   BenchProgress& progress, PrecisionRow& row) {
  Session session(model, options);
  std::mt19937 rng(1234);
  const int64_t vocab = model.config().vocab_size;
  if (prompt_tokens > 0) {
    const std::vector<int32_t> tokens = random_tokens(prompt_tokens, vocab, rng);
    std::vector<double> rates, first_token;
    for (int r = 0; r <= runs; ++r) {
      check_interrupt();
      const auto start = Clock::now();
      session.rewind_to(0);
      const std::span<const float> logits = session.append(tokens);
      const double prefill_seconds = seconds_since(start);
      volatile auto first = std::max_element(logits.begin(), logits.end()) - logits.begin();
      (void)first;
      const double first_seconds = seconds_since(start);
      if (r == 0) continue;  // the warm-up
      rates.push_back(double(prompt_tokens) / prefill_seconds);
      first_token.push_back(first_seconds);
      progress.tick();
    }
    row.prefill = spread_of(rates);
    row.first_token_seconds = spread_of(first_token);
  }
  if (decode_tokens > 0) {
    const std::vector<int32_t> tokens = random_tokens(decode_tokens, vocab, rng);
    std::vector<double> rates;
    for (int r = 0; r <= runs; ++r) {
      check_interrupt();
      const auto start = Clock::now();
      session.rewind_to(0);
      for (int32_t token : tokens) {
        session.append(std::span<const int32_t>(&token, 1));
        progress.tick();  // a clock read per token at most: nothing next to a forward pass
      }
      if (r > 0) rates.push_back(double(decode_tokens) / seconds_since(start));
    }
    row.decode = spread_of(rates);
  }
}

// The read bandwidth of main memory at each thread count, and each row's at the bytes one of its
// tokens reads (at most the main-memory buffer, past which the rate no longer changes). Probed
// after every model is freed, so that nothing else holds memory or cache; equal probes once.
void probe_read_roofs(const std::set<int>& thread_counts, PrecisionReport& report) {
  const uint64_t memory_bytes = memory_probe_bytes();
  std::map<std::pair<int, uint64_t>, double> probed;
  auto probe = [&](int threads, uint64_t bytes) {
    const auto key = std::make_pair(threads, std::min(bytes, memory_bytes));
    if (auto found = probed.find(key); found != probed.end()) return found->second;
    check_interrupt();
    ThreadPool pool(threads);
    return probed[key] = probe_read_bandwidth(pool, key.second);
  };
  for (int threads : thread_counts) report.machine.read_bandwidth_gbps[threads] = probe(threads, memory_bytes);
  for (PrecisionRow& row : report.rows)
    if (row.bytes_per_token > 0) row.read_gbps = probe(row.threads, row.bytes_per_token);
  report.machine.memory_probe_bytes = memory_bytes;
  report.machine.bandwidth_method = read_probe_method();
}

std::string threads_text(int threads) { return std::to_string(threads) + (threads == 1 ? " thread" : " threads"); }

}  // namespace

int bench_precisions_command(int argc, char** argv) {
  CLI::App app{
      "Build a model at each precision and measure speed, memory and quality side by side.\n"
      "Example: phirun bench --precisions fp16,int8,int4 -i model.gguf -t 1,2 --ppl-file wiki.test.raw",
      "phirun bench --precisions"};
  std::string precision_list, thread_list = std::to_string(ThreadPool::physical_core_count());
  std::string ppl_file, out_dir = "phirun-bench", llama_bench_file, weighting = "uniform";
  int prompt_tokens = 512, decode_tokens = 128, runs = 3;
  int64_t ppl_context = 512, ppl_chunks = 0;
  bool rebuild = false;
  ModelFlags flags;
  BenchBuildOptions build;
  app.add_option("-i,--input", build.input, "Hugging Face model folder or GGUF file to build each precision from")
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
  app.add_option("--compare-llama-bench", llama_bench_file,
                 "llama-bench -o json output: its rows join the table, JSON, CSV and picture");
  app.add_option("--accuracy", flags.accuracy, "activations of integer-weight matmuls: float, int16 or int8")
      ->check(CLI::IsMember({"float", "int16", "int8"}));
  // The builder's flags (as `phirun build`), applied to every precision.
  const auto precisions_flag = CLI::IsMember({"fp32", "fp16", "bf16", "int8", "int4"});
  app.add_option("--embed-precision", build.embed_precision, "build: precision of the token embedding")
      ->check(precisions_flag);
  app.add_option("--lm-head-precision", build.lm_head_precision, "build: precision of the output head")
      ->check(precisions_flag);
  app.add_option("--calib", build.calibration_text, "build: calibration text (activation-weighted quantization)");
  app.add_option("--calib-ctx", build.calibration_context, "build: tokens per calibration chunk (default 512)")
      ->check(CLI::Range(int64_t(8), int64_t(1) << 20));
  app.add_option("--calib-chunks", build.calibration_chunks, "build: at most N calibration chunks")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--gptq", build.gptq, "build: with --calib, GPTQ error feedback");
  app.add_option("--search-steps", build.search.steps, "build: candidate scales per block side (default 2)")
      ->check(CLI::Range(1, 32));
  app.add_flag("--plain-rounding", build.search.plain_rounding, "build: plain max-abs rounding");
  app.add_option("--value-weighting", weighting, "build: uniform, square or sigma-square")
      ->check(CLI::IsMember({"uniform", "square", "sigma-square"}));
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;

  build.search.weighting = weighting == "square"         ? ValueWeighting::Square
                           : weighting == "sigma-square" ? ValueWeighting::SigmaSquare
                                                         : ValueWeighting::Uniform;
  std::vector<std::string> precisions = split_list(precision_list);
  if (precisions.empty()) throw std::runtime_error("--precisions: no precision given");
  for (const std::string& p : precisions)
    if (!find_bench_precision(p))
      throw std::runtime_error("--precisions " + precision_list + ": '" + p +
                               "' is not fp32, fp16, bf16, int8, int4, q4_0 or q4_1");
  // Highest precision first: it is the KL divergence reference, its log-probabilities saved first.
  std::stable_sort(precisions.begin(), precisions.end(), [](const std::string& a, const std::string& b) {
    return find_bench_precision(a)->rank > find_bench_precision(b)->rank;
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
  if (!fs::exists(build.input)) throw std::runtime_error(build.input + ": no such file or folder");
  if (!build.calibration_text.empty() && !fs::is_regular_file(build.calibration_text))
    throw std::runtime_error(build.calibration_text + ": no such calibration text file");
  std::string ppl_text;
  if (!ppl_file.empty()) {
    std::ifstream in(ppl_file, std::ios::binary);
    if (!in) throw std::runtime_error(ppl_file + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    ppl_text = text.str();
  }
  // Read before any build, so that a malformed file fails at once.
  const std::vector<PrecisionRow> llama_rows =
      llama_bench_file.empty() ? std::vector<PrecisionRow>{} : read_llama_bench_json(llama_bench_file);
  fs::create_directories(out_dir);

  PrecisionReport report;
  report.machine = machine_facts();
  report.machine.phirun_version = build_version();
  report.machine.phirun_commit = build_commit();
  report.input = build.input;
  report.reference_precision = precisions.front();
  report.ppl_file = ppl_file;
  report.prompt_tokens = prompt_tokens;
  report.decode_tokens = decode_tokens;
  report.runs = runs;
  const int max_threads = *std::max_element(thread_counts.begin(), thread_counts.end());
  build.threads = max_threads;
  build.input_hash = hash_input(build.input);
  if (!build.calibration_text.empty()) build.calibration_hash = hash_input(build.calibration_text);
  const fs::path kld_base = fs::path(out_dir) / "reference-logprobs.bin";
  bool rss_per_model = true;

  // Main memory is probed at every thread count of a row, llama.cpp's included; each row's roof
  // at its own working set after every row is measured (read_probe.h).
  std::set<int> probe_threads(thread_counts.begin(), thread_counts.end());
  for (const PrecisionRow& row : llama_rows) probe_threads.insert(row.threads);
  std::vector<BenchProgress::Step> plan;
  for (const std::string& precision : precisions) {
    plan.push_back({"build", "preparing the " + precision + " file"});
    for (int threads : thread_counts) {
      plan.push_back({"measure", "measuring " + precision + " at " + threads_text(threads)});
      if (!ppl_text.empty() && threads == max_threads) plan.push_back({"perplexity", "perplexity of " + precision});
    }
  }
  plan.push_back({"probe", "measuring the read bandwidth (main memory, and each row's working set)"});
  BenchProgress progress(plan);

  InterruptGuard guard;
  bool llama_rows_added = false;
  try {
    for (const std::string& precision : precisions) {
      progress.next();
      const BuiltModel built =
          build_cached(build, precision, out_dir, rebuild, &InterruptGuard::interrupted(), [&] { progress.tick(); });
      progress.note(precision + ": " + (built.cached ? "cached " : "built ") + built.path);
      const uint64_t file_bytes = fs::file_size(built.path);
      std::optional<PerplexityResult> quality;
      for (int threads : thread_counts) {
        progress.next();
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
        row.bytes_per_token = bytes_per_token(*model);
        measure_speed(*model, session_options(flags), prompt_tokens, decode_tokens, runs, progress, row);
        row.peak_rss_bytes = peak_rss_bytes();  // of the load and speed runs; perplexity's buffers are its own
        // Perplexity once per precision (it does not depend on threads), at the most threads.
        if (!ppl_text.empty() && threads == max_threads) {
          progress.next();
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
    progress.next();
    report.rows.insert(report.rows.end(), llama_rows.begin(), llama_rows.end());
    llama_rows_added = true;
    probe_read_roofs(probe_threads, report);
    progress.finish();
  } catch (const std::exception&) {
    progress.finish();
    // Ctrl-C: keep what was measured (whole rows only); any other error goes up as usual.
    if (!InterruptGuard::interrupted().load()) throw;
    report.interrupted = true;
  }
  report.machine.peak_rss_scope = rss_per_model ? "per model (VmHWM reset before each load)" : "process (cumulative)";
  if (!llama_rows_added) report.rows.insert(report.rows.end(), llama_rows.begin(), llama_rows.end());
  apply_roofline(report);

  const std::string table = report_table(report);
  std::fputs(table.c_str(), stdout);
  const fs::path out(out_dir);
  write_report_file(out / "report.json", report_json(report));
  write_report_file(out / "report.csv", report_csv(report));
  write_report_file(out / "report.svg", report_svg(report));
  std::fprintf(stderr, "phirun: wrote %s, report.csv and report.svg\n", (out / "report.json").c_str());
  if (report.interrupted) {
    std::fprintf(stderr, "phirun: interrupted: the reports hold the %zu rows measured before it\n", report.rows.size());
    return 130;
  }
  return 0;
}

}  // namespace phirun::cli
