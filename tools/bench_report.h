// The results of `phirun bench --precisions` and the forms they are written in: a plain table for
// stdout, report.json, report.csv and report.svg (bench_svg.h). All are made from the same rows, so
// the numbers agree digit for digit (the test checks it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace phirun::cli {

// Median, 10th and 90th percentile of repeated tokens/s runs (linear interpolation between ranks).
struct Spread {
  double median = 0, p10 = 0, p90 = 0;
  std::vector<double> runs;
};
Spread spread_of(std::vector<double> runs);

struct PrecisionRow {
  std::string engine = "phirun";  // or "llama.cpp": a row read by --compare-llama-bench
  std::string precision;          // "fp16", "int8", "int4"; llama.cpp's type name ("Q4_0") for its rows
  int threads = 0;
  uint64_t file_bytes = 0;
  int64_t parameters = 0;
  double bits_per_weight = 0;
  std::optional<double> load_seconds;         // nullopt for llama.cpp rows (llama-bench does not say)
  std::optional<uint64_t> peak_rss_bytes;     // likewise
  std::optional<Spread> prefill, decode;      // tokens/s; nullopt when -p 0 / -n 0
  std::optional<Spread> first_token_seconds;  // -p prompt tokens read and the first token picked
  // Read roofline of decode: every weight is read once per token (an untied embedding table
  // only one row), so decode can go no faster than read_gbps / bytes_per_token, read_gbps being
  // the probe's rate over a buffer of bytes_per_token at this row's threads (kernels/cpu/
  // read_probe.h): main memory's for a large model, partly the caches' for a small one.
  uint64_t bytes_per_token = 0;
  std::optional<double> read_gbps;
  std::optional<double> roofline_tokens_per_second, roofline_fraction;
  std::optional<double> ppl, ppl_error;                   // nullopt without --ppl-file
  std::optional<double> kld_mean, same_top, delta_p_rms;  // against the reference; nullopt for it
};

struct MachineFacts {
  std::string cpu_model, isa, phirun_version, phirun_commit;
  int physical_cores = 0, logical_cpus = 0;
  uint64_t memory_bytes = 0;
  std::string peak_rss_scope;                 // "per model (VmHWM reset)" or "process (cumulative)"
  std::map<int, double> read_bandwidth_gbps;  // main memory, by thread count (kernels/cpu/read_probe.h)
  uint64_t memory_probe_bytes = 0;            // the buffer that measured it
  std::string bandwidth_method;
};
MachineFacts machine_facts();

struct PrecisionReport {
  MachineFacts machine;
  std::string input, reference_precision, ppl_file;
  int prompt_tokens = 0, decode_tokens = 0, runs = 0;
  int64_t ppl_context = 0;
  std::vector<PrecisionRow> rows;
  bool interrupted = false;  // Ctrl-C: the rows measured before it
};

// The machine-facts lines at the top of every output, each line starting with `prefix`.
std::string header_lines(const PrecisionReport& report, const char* prefix);
// How the table prints a spread ("12.3 [11.9, 12.8]") and an optional value ("-" when absent).
std::string table_spread(const std::optional<Spread>& spread);
std::string table_value(const std::optional<double>& value, const char* format);

std::string report_table(const PrecisionReport& report);
std::string report_json(const PrecisionReport& report);
std::string report_csv(const PrecisionReport& report);

// Fills each row's roofline fields from its read_gbps (rows without one: none).
void apply_roofline(PrecisionReport& report);

// Writes `text` to a temporary file beside `path`, then renames it: never a half-written report.
void write_report_file(const std::filesystem::path& path, const std::string& text);

}  // namespace phirun::cli
