// Writes the rows of `phirun bench --precisions` as a table, JSON and CSV, with the machine facts
// (CPU, kernel variant, cores, memory, read bandwidth, phirun version) at the top of each.
#include "tools/bench_report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/thread_pool.h"

namespace phirun::cli {

namespace {

double percentile(const std::vector<double>& sorted, double q) {
  const double rank = q * double(sorted.size() - 1);
  const size_t low = size_t(rank);
  const size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (rank - double(low)) * (sorted[high] - sorted[low]);
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) return line.substr(line.find(':') + 2);
  return "unknown";
}

nlohmann::json spread_json(const std::optional<Spread>& s) {
  if (!s) return nullptr;
  return {{"median", s->median}, {"p10", s->p10}, {"p90", s->p90}, {"runs", s->runs}};
}

template <typename T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// CSV and JSON print doubles with 17 significant digits, so a reader gets the same value from both.
std::string number(const std::optional<double>& value) {
  if (!value) return "";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", *value);
  return text;
}

std::string integer_cell(const std::optional<uint64_t>& value) { return value ? std::to_string(*value) : ""; }

// A CSV cell: quoted (with doubled quotes) only when it holds a comma, quote or line break.
std::string csv_text(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string bandwidth_text(const MachineFacts& m) {
  std::string text;
  for (const auto& [threads, gbps] : m.read_bandwidth_gbps) {
    char part[64];
    std::snprintf(part, sizeof part, "%s%.1f GB/s at %d thread%s", text.empty() ? "" : ", ", gbps, threads,
                  threads == 1 ? "" : "s");
    text += part;
  }
  return text.empty() ? "not measured" : text;
}

}  // namespace

std::string header_lines(const PrecisionReport& r, const char* prefix) {
  const MachineFacts& m = r.machine;
  char text[2048];
  std::snprintf(text, sizeof text,
                "%smachine: %s | isa %s | %d physical cores, %d logical CPUs | %.1f GB memory | phirun %s "
                "(commit %s)\n%sinput: %s | reference %s | -p %d -n %d | %d runs after a warm-up | peak RSS %s%s\n",
                prefix, m.cpu_model.c_str(), m.isa.c_str(), m.physical_cores, m.logical_cpus,
                double(m.memory_bytes) / 1e9, m.phirun_version.c_str(), m.phirun_commit.c_str(), prefix,
                r.input.c_str(), r.reference_precision.c_str(), r.prompt_tokens, r.decode_tokens, r.runs,
                m.peak_rss_scope.c_str(), r.interrupted ? " | INTERRUPTED: incomplete" : "");
  std::string lines = text;
  char probe[64] = "";
  if (m.memory_probe_bytes) std::snprintf(probe, sizeof probe, ", a %.0f MiB buffer", double(m.memory_probe_bytes) / 1048576);
  lines += prefix + std::string("read bandwidth of main memory: ") + bandwidth_text(m) + probe +
           (m.bandwidth_method.empty() ? "" : " (" + m.bandwidth_method +
                                                  "; the roofline column: the same probe over the bytes one token reads)") +
           "\n";
  return lines;
}

Spread spread_of(std::vector<double> runs) {
  Spread s;
  s.runs = runs;
  if (runs.empty()) return s;
  std::sort(runs.begin(), runs.end());
  s.median = percentile(runs, 0.5);
  s.p10 = percentile(runs, 0.1);
  s.p90 = percentile(runs, 0.9);
  return s;
}

MachineFacts machine_facts() {
  MachineFacts m;
  m.cpu_model = cpu_model_name();
  m.isa = std::string(isa_name(active_isa()));
  m.physical_cores = ThreadPool::physical_core_count();
  m.logical_cpus = int(::sysconf(_SC_NPROCESSORS_ONLN));
  m.memory_bytes = uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGE_SIZE));
  return m;
}

std::string report_table(const PrecisionReport& r) {
  std::ostringstream out;
  out << header_lines(r, "");
  char line[640];
  std::snprintf(line, sizeof line,
                "| %-9s | %-9s | %3s | %9s | %6s | %7s | %8s | %-26s | %-26s | %9s | %8s | %9s | %9s | %7s |\n",
                "engine", "precision", "thr", "size MB", "bpw", "load s", "RSS MB", "prefill tok/s med [p10,p90]",
                "decode tok/s med [p10,p90]", "TTFT ms", "roofline", "PPL", "KLD", "top-1");
  out << line;
  out << "|-----------|-----------|-----|-----------|--------|---------|----------|----------------------------|------"
         "----------------------|-----------|----------|-----------|-----------|---------|\n";
  for (const PrecisionRow& row : r.rows) {
    std::snprintf(
        line, sizeof line,
        "| %-9s | %-9s | %3d | %9.2f | %6.2f | %7s | %8s | %-26s | %-26s | %9s | %8s | %9s | %9s | %7s |\n",
        row.engine.c_str(), row.precision.c_str(), row.threads, double(row.file_bytes) / 1e6, row.bits_per_weight,
        table_value(row.load_seconds, "%.3f").c_str(),
        table_value(row.peak_rss_bytes ? std::optional<double>(double(*row.peak_rss_bytes) / 1e6) : std::nullopt,
                    "%.1f")
            .c_str(),
        table_spread(row.prefill).c_str(), table_spread(row.decode).c_str(),
        table_value(
            row.first_token_seconds ? std::optional<double>(1e3 * row.first_token_seconds->median) : std::nullopt,
            "%.2f")
            .c_str(),
        table_value(row.roofline_fraction ? std::optional<double>(100 * *row.roofline_fraction) : std::nullopt,
                    "%.1f%%")
            .c_str(),
        table_value(row.ppl, "%.4f").c_str(), table_value(row.kld_mean, "%.6f").c_str(),
        table_value(row.same_top ? std::optional<double>(100 * *row.same_top) : std::nullopt, "%.2f%%").c_str());
    out << line;
  }
  return out.str();
}

std::string table_spread(const std::optional<Spread>& s) {
  if (!s) return "-";
  char t[96];
  std::snprintf(t, sizeof t, "%.1f [%.1f, %.1f]", s->median, s->p10, s->p90);
  return t;
}

std::string table_value(const std::optional<double>& v, const char* format) {
  if (!v) return "-";
  char t[48];
  std::snprintf(t, sizeof t, format, *v);
  return t;
}

std::string report_json(const PrecisionReport& r) {
  const MachineFacts& m = r.machine;
  nlohmann::json bandwidth = nlohmann::json::object();  // keys are thread counts
  for (const auto& [threads, gbps] : m.read_bandwidth_gbps) bandwidth[std::to_string(threads)] = gbps;
  nlohmann::json out = {{"machine",
                         {{"cpu_model", m.cpu_model},
                          {"isa", m.isa},
                          {"physical_cores", m.physical_cores},
                          {"logical_cpus", m.logical_cpus},
                          {"memory_bytes", m.memory_bytes},
                          {"phirun_version", m.phirun_version},
                          {"phirun_commit", m.phirun_commit},
                          {"peak_rss_scope", m.peak_rss_scope},
                          {"read_bandwidth_gbps", bandwidth},
                          {"memory_probe_bytes", m.memory_probe_bytes},
                          {"bandwidth_method", m.bandwidth_method}}},
                        {"input", r.input},
                        {"reference_precision", r.reference_precision},
                        {"prompt_tokens", r.prompt_tokens},
                        {"decode_tokens", r.decode_tokens},
                        {"runs", r.runs},
                        {"ppl_file", r.ppl_file},
                        {"ppl_context", r.ppl_context},
                        {"interrupted", r.interrupted},
                        {"rows", nlohmann::json::array()}};
  for (const PrecisionRow& row : r.rows)
    out["rows"].push_back({{"engine", row.engine},
                           {"precision", row.precision},
                           {"threads", row.threads},
                           {"file_bytes", row.file_bytes},
                           {"parameters", row.parameters},
                           {"bits_per_weight", row.bits_per_weight},
                           {"load_seconds", optional_json(row.load_seconds)},
                           {"peak_rss_bytes", optional_json(row.peak_rss_bytes)},
                           {"prefill_tokens_per_second", spread_json(row.prefill)},
                           {"decode_tokens_per_second", spread_json(row.decode)},
                           {"first_token_seconds", spread_json(row.first_token_seconds)},
                           {"bytes_per_token", row.bytes_per_token},
                           {"read_gbps", optional_json(row.read_gbps)},
                           {"roofline_tokens_per_second", optional_json(row.roofline_tokens_per_second)},
                           {"roofline_fraction", optional_json(row.roofline_fraction)},
                           {"ppl", optional_json(row.ppl)},
                           {"ppl_error", optional_json(row.ppl_error)},
                           {"kld_mean", optional_json(row.kld_mean)},
                           {"same_top", optional_json(row.same_top)},
                           {"delta_p_rms", optional_json(row.delta_p_rms)}});
  return out.dump(2) + "\n";
}

std::string report_csv(const PrecisionReport& r) {
  std::ostringstream out;
  out << header_lines(r, "# ");
  out << "engine,precision,threads,file_bytes,parameters,bits_per_weight,load_seconds,peak_rss_bytes,prefill_median,"
         "prefill_p10,prefill_p90,decode_median,decode_p10,decode_p90,first_token_median,first_token_p10,"
         "first_token_p90,bytes_per_token,read_gbps,roofline_tokens_per_second,roofline_fraction,ppl,ppl_error,kld_mean,"
         "same_top,delta_p_rms\n";
  auto spread_cells = [](const std::optional<Spread>& s) {
    if (!s) return std::string(",,");
    return number(s->median) + "," + number(s->p10) + "," + number(s->p90);
  };
  for (const PrecisionRow& row : r.rows)
    out << csv_text(row.engine) << ',' << csv_text(row.precision) << ',' << row.threads << ',' << row.file_bytes << ','
        << row.parameters << ',' << number(row.bits_per_weight) << ',' << number(row.load_seconds) << ','
        << integer_cell(row.peak_rss_bytes) << ',' << spread_cells(row.prefill) << ',' << spread_cells(row.decode)
        << ',' << spread_cells(row.first_token_seconds) << ',' << row.bytes_per_token << ','
        << number(row.read_gbps) << ',' << number(row.roofline_tokens_per_second) << ',' << number(row.roofline_fraction) << ',' << number(row.ppl)
        << ',' << number(row.ppl_error) << ',' << number(row.kld_mean) << ',' << number(row.same_top) << ','
        << number(row.delta_p_rms) << '\n';
  return out.str();
}

void apply_roofline(PrecisionReport& r) {
  for (PrecisionRow& row : r.rows) {
    if (!row.read_gbps || row.bytes_per_token == 0) continue;
    row.roofline_tokens_per_second = *row.read_gbps * 1e9 / double(row.bytes_per_token);
    if (row.decode) row.roofline_fraction = row.decode->median / *row.roofline_tokens_per_second;
  }
}

void write_report_file(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    if (!out.flush()) throw std::runtime_error(path.string() + ": cannot write");
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace phirun::cli
