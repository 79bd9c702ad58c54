// The results of `phirun bench --precisions` and the three forms they are written in: a plain
// table for stdout, report.json and report.csv. All three are made from the same rows, so the
// numbers agree digit for digit (the test checks it).
#pragma once

#include <cstdint>
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
  std::string precision;  // "fp16", "int8", "int4"
  int threads = 0;
  uint64_t file_bytes = 0;
  int64_t parameters = 0;
  double bits_per_weight = 0;
  double load_seconds = 0;
  uint64_t peak_rss_bytes = 0;
  std::optional<Spread> prefill, decode;                  // tokens/s; nullopt when -p 0 / -n 0
  std::optional<double> ppl, ppl_error;                   // nullopt without --ppl-file
  std::optional<double> kld_mean, same_top, delta_p_rms;  // against the reference; nullopt for it
};

struct MachineFacts {
  std::string cpu_model, isa, phirun_version, phirun_commit;
  int physical_cores = 0, logical_cpus = 0;
  uint64_t memory_bytes = 0;
  std::string peak_rss_scope;  // "per model (VmHWM reset)" or "process (cumulative)"
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

std::string report_table(const PrecisionReport& report);
std::string report_json(const PrecisionReport& report);
std::string report_csv(const PrecisionReport& report);

}  // namespace phirun::cli
