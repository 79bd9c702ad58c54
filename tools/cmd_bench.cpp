// `phirun bench -m MODEL`: prompt processing (-p tokens in one batch) and decode (-n tokens, one
// at a time from an empty cache) speed, as llama.cpp's llama-bench measures them, at each thread
// count given, after a warm-up run: median and spread of -r runs, and the peak resident memory.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "kernels/cpu/isa.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace phirun::cli {

namespace {

struct Result {
  std::string test;  // "pp512", "tg128"
  int threads = 0;
  std::vector<double> tokens_per_second;
  double median() const {
    std::vector<double> v = tokens_per_second;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  double min() const { return *std::min_element(tokens_per_second.begin(), tokens_per_second.end()); }
  double max() const { return *std::max_element(tokens_per_second.begin(), tokens_per_second.end()); }
  double stddev() const {
    double mean = 0, sq = 0;
    for (double v : tokens_per_second) mean += v;
    mean /= double(tokens_per_second.size());
    for (double v : tokens_per_second) sq += (v - mean) * (v - mean);
    return tokens_per_second.size() > 1 ? std::sqrt(sq / double(tokens_per_second.size() - 1)) : 0.0;
  }
};

std::vector<int> parse_thread_list(const std::string& text) {
  std::vector<int> threads;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const int n = std::stoi(item, &used);
      if (used != item.size() || n < 1 || n > 1024) throw std::invalid_argument(item);
      threads.push_back(n);
    } catch (const std::exception&) {
      throw std::runtime_error("-t " + text + ": expected thread counts like 1,2");
    }
  }
  if (threads.empty()) throw std::runtime_error("-t: no thread count given");
  return threads;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Tokens/s of one prompt of `tokens` in a fresh cache.
double run_prompt(Session& session, const std::vector<int32_t>& tokens) {
  session.rewind_to(0);
  const auto start = std::chrono::steady_clock::now();
  session.append(tokens);
  return double(tokens.size()) / seconds_since(start);
}

// Tokens/s of `tokens` appended one at a time from an empty cache (each step computes logits).
double run_decode(Session& session, const std::vector<int32_t>& tokens) {
  session.rewind_to(0);
  const auto start = std::chrono::steady_clock::now();
  for (int32_t token : tokens) session.append(std::span<const int32_t>(&token, 1));
  return double(tokens.size()) / seconds_since(start);
}

uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return uint64_t(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace

int bench_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--precisions" || std::string_view(argv[i]).starts_with("--precisions="))
      return bench_precisions_command(argc, argv);
  CLI::App app{
      "Measure prompt processing and decode speed.\n"
      "Example: phirun bench -m model.gguf -p 512 -n 128 -t 1,2 -r 5",
      "phirun bench"};
  ModelFlags flags;
  std::string thread_list = std::to_string(ThreadPool::physical_core_count());
  int prompt_tokens = 512, decode_tokens = 128, repetitions = 5;
  bool json = false;
  app.add_option("-m,--model", flags.model_path, "GGUF model file (default: SmolLM2-135M-Instruct from the cache)");
  app.add_option("-t,--threads", thread_list, "comma-separated thread counts (default: physical cores)");
  app.add_option("-p,--n-prompt", prompt_tokens, "prompt tokens processed in one batch (0: skip)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("-n,--n-gen", decode_tokens, "tokens decoded one at a time (0: skip)")->check(CLI::Range(0, 1 << 20));
  app.add_option("-r,--repetitions", repetitions, "timed runs per test, after one warm-up run")
      ->check(CLI::Range(1, 1000));
  app.add_option("--accuracy", flags.accuracy, "activations of integer-weight matmuls: float, int16 or int8")
      ->check(CLI::IsMember({"float", "int16", "int8"}));
  app.add_option("--isa", flags.isa, "kernel variant (default: the best this CPU runs)");
  add_longrope_policy_flag(app, flags);
  app.add_flag("--json", json, "print the results as JSON");
  if (int code = parse_subcommand(app, argc, argv); code >= 0) return code;
  const std::vector<int> thread_counts = parse_thread_list(thread_list);

  const std::string path = resolve_model_path(flags);
  flags.model_path = path;
  flags.context = std::max(prompt_tokens, decode_tokens);
  std::vector<Result> results;
  std::string model_type;
  int64_t vocab = 0;
  uint64_t kv_bytes = 0;
  for (int threads : thread_counts) {
    flags.threads = threads;
    const std::unique_ptr<Model> model = load_model(flags);
    Session session(*model, session_options(flags));
    kv_bytes = session.kv_cache_bytes();
    vocab = model->config().vocab_size;
    model_type = std::string(type_name(model->weights().layers.at(0).w_gate.type));
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> pick(0, int32_t(vocab - 1));
    auto random_tokens = [&](int n) {
      std::vector<int32_t> tokens(static_cast<size_t>(n));
      for (int32_t& t : tokens) t = pick(rng);
      return tokens;
    };
    if (prompt_tokens > 0) {
      const std::vector<int32_t> tokens = random_tokens(prompt_tokens);
      Result result{"pp" + std::to_string(prompt_tokens), threads, {}};
      run_prompt(session, tokens);  // warm-up
      for (int r = 0; r < repetitions; ++r) result.tokens_per_second.push_back(run_prompt(session, tokens));
      results.push_back(result);
    }
    if (decode_tokens > 0) {
      const std::vector<int32_t> tokens = random_tokens(decode_tokens);
      Result result{"tg" + std::to_string(decode_tokens), threads, {}};
      run_decode(session, tokens);  // warm-up
      for (int r = 0; r < repetitions; ++r) result.tokens_per_second.push_back(run_decode(session, tokens));
      results.push_back(result);
    }
  }
  const uint64_t file_bytes = std::filesystem::file_size(path);
  const uint64_t rss = peak_rss_bytes();
  const std::string isa(isa_name(active_isa()));

  if (json) {
    nlohmann::json out = {{"model", path},
                          {"type", model_type},
                          {"file_bytes", file_bytes},
                          {"kv_cache_bytes", kv_bytes},
                          {"peak_rss_bytes", rss},
                          {"isa", isa},
                          {"accuracy", flags.accuracy},
                          {"repetitions", repetitions},
                          {"results", nlohmann::json::array()}};
    for (const Result& r : results)
      out["results"].push_back({{"test", r.test},
                                {"threads", r.threads},
                                {"median_tokens_per_second", r.median()},
                                {"min", r.min()},
                                {"max", r.max()},
                                {"stddev", r.stddev()},
                                {"runs", r.tokens_per_second}});
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("model: %s (%s, %.1f MB) | isa %s | accuracy %s | %d runs after a warm-up\n", path.c_str(),
              model_type.c_str(), double(file_bytes) / 1e6, isa.c_str(), flags.accuracy.c_str(), repetitions);
  std::printf("| %-7s | %7s | %12s | %21s | %8s |\n", "test", "threads", "median tok/s", "min .. max", "stddev");
  std::printf("|---------|---------|--------------|-----------------------|----------|\n");
  for (const Result& r : results)
    std::printf("| %-7s | %7d | %12.2f | %9.2f .. %9.2f | %8.2f |\n", r.test.c_str(), r.threads, r.median(), r.min(),
                r.max(), r.stddev());
  std::printf("peak RSS %.1f MB (model file %.1f MB + KV cache %.1f MB = %.1f MB)\n", double(rss) / 1e6,
              double(file_bytes) / 1e6, double(kv_bytes) / 1e6, double(file_bytes + kv_bytes) / 1e6);
  return 0;
}

}  // namespace phirun::cli
