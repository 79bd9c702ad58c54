// Hand-written SVG, no dependencies. The x axis is log KL divergence; the reference precision (KLD
// 0, which a log axis cannot show) gets its own column at the left edge, and rows without a KLD
// (llama.cpp's, or all of them without --ppl-file) a column at the right edge. Labels are nudged
// down until they overlap no earlier label.
#include "tools/bench_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

namespace phirun::cli {

namespace {

constexpr double kWidth = 960, kPlotHeight = 450;
constexpr double kLeft = 90, kRight = 930;
constexpr double kColumn = 70;     // width of the reference and not-measured columns
constexpr double kMaxRadius = 24;  // the largest file's point
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// Splits a " | "-separated facts line into lines of at most about `width` characters.
std::vector<std::string> wrap(const std::string& line, size_t width) {
  std::vector<std::string> lines(1);
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(" | ", start);
    const std::string part = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!lines.back().empty() && lines.back().size() + 3 + part.size() > width) lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " | ") + part;
    if (end == std::string::npos) break;
    start = end + 3;
  }
  return lines;
}

double nice_step(double range) {  // 1, 2 or 5 times a power of ten, about range / 6
  const double raw = range / 6, power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * power) return m * power;
  return 10 * power;
}

struct Point {
  const PrecisionRow* row;
  double x, y, radius;
  std::string color, label;
};

struct Box {
  double x0, y0, x1, y1;
};

}  // namespace

std::string report_svg(const PrecisionReport& r) {
  std::vector<std::string> fact_lines;
  std::istringstream facts(header_lines(r, ""));
  for (std::string line; std::getline(facts, line);)
    for (const std::string& part : wrap(line, 150)) fact_lines.push_back(part);
  const double legend_y = 48 + 15 * double(fact_lines.size()) + 8;
  const double top = legend_y + 22, bottom = top + kPlotHeight, height = bottom + 80;
  std::vector<const PrecisionRow*> rows;
  uint64_t largest = 1;
  double top_rate = 0, min_kld = 1e300, max_kld = 0;
  bool unmeasured = false;
  std::vector<int> thread_counts;
  for (const PrecisionRow& row : r.rows) {
    if (!row.decode) continue;
    rows.push_back(&row);
    largest = std::max(largest, row.file_bytes);
    top_rate = std::max(top_rate, row.decode->p90);
    thread_counts.push_back(row.threads);
    const bool reference = row.engine == "phirun" && row.precision == r.reference_precision;
    if (row.kld_mean && *row.kld_mean > 0) {
      min_kld = std::min(min_kld, *row.kld_mean);
      max_kld = std::max(max_kld, *row.kld_mean);
    } else if (!reference) {
      unmeasured = true;
    }
  }
  std::sort(thread_counts.begin(), thread_counts.end());
  thread_counts.erase(std::unique(thread_counts.begin(), thread_counts.end()), thread_counts.end());
  const bool log_axis = max_kld > 0;
  const double decade_lo = log_axis ? std::floor(std::log10(min_kld)) : 0;
  const double decade_hi = log_axis ? std::max(std::ceil(std::log10(max_kld)), decade_lo + 1) : 1;
  const double axis_x0 = kLeft + kColumn + 20, axis_x1 = kRight - (unmeasured ? kColumn + 20 : 10);
  const double y_step = nice_step(top_rate > 0 ? top_rate * 1.08 : 1);
  const double y_max = std::ceil((top_rate > 0 ? top_rate * 1.08 : 1) / y_step) * y_step;
  auto y_of = [&](double rate) { return bottom - (bottom - top) * rate / y_max; };
  auto x_of_kld = [&](double kld) {
    return axis_x0 + (axis_x1 - axis_x0) * (std::log10(kld) - decade_lo) / (decade_hi - decade_lo);
  };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << kWidth << ' ' << height << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kWidth / 2 << "\" y=\"26\" font-size=\"18\" font-weight=\"bold\" text-anchor=\"middle\">"
      << "phirun bench --precisions: decode speed against quality loss</text>\n";
  for (size_t i = 0; i < fact_lines.size(); ++i)
    svg << "<text x=\"20\" y=\"" << 48 + 15 * double(i) << "\" font-size=\"10.5\" fill=\"#333\">"
        << escape(fact_lines[i]) << "</text>\n";

  // Legend: a colour per thread count, the two shapes, what the area means.
  double legend_x = 20;
  for (size_t i = 0; i < thread_counts.size(); ++i) {
    svg << "<circle cx=\"" << legend_x + 6 << "\" cy=\"" << legend_y - 4 << "\" r=\"6\" fill=\"" << kColors[i % 6]
        << "\" fill-opacity=\"0.6\"/><text x=\"" << legend_x + 16 << "\" y=\"" << legend_y << "\" font-size=\"12\">"
        << thread_counts[i] << " thread" << (thread_counts[i] == 1 ? "" : "s") << "</text>\n";
    legend_x += 90;
  }
  svg << "<text x=\"" << legend_x << "\" y=\"" << legend_y
      << "\" font-size=\"12\">circle: phirun, square: llama.cpp (llama-bench); area proportional to file size; "
         "bar: p10 to p90 of the runs</text>\n";

  // Frame, grid and ticks.
  svg << "<g stroke=\"#ddd\" stroke-width=\"1\">\n";
  for (double v = 0; v <= y_max + y_step / 2; v += y_step)
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << y_of(v) << "\" x2=\"" << kRight << "\" y2=\"" << y_of(v) << "\"/>\n";
  if (log_axis)
    for (double d = decade_lo; d < decade_hi; ++d)
      for (int m = 1; m <= 9; ++m)
        svg << "<line x1=\"" << x_of_kld(m * std::pow(10, d)) << "\" y1=\"" << top << "\" x2=\""
            << x_of_kld(m * std::pow(10, d)) << "\" y2=\"" << bottom << "\"" << (m == 1 ? " stroke=\"#bbb\"" : "")
            << "/>\n";
  svg << "</g>\n<rect x=\"" << kLeft << "\" y=\"" << top << "\" width=\"" << kRight - kLeft << "\" height=\""
      << bottom - top << "\" fill=\"none\" stroke=\"#333\"/>\n";
  svg << "<rect x=\"" << kLeft << "\" y=\"" << top << "\" width=\"" << kColumn << "\" height=\"" << bottom - top
      << "\" fill=\"#f3f3f3\" stroke=\"#999\"/>\n";
  if (unmeasured)
    svg << "<rect x=\"" << kRight - kColumn << "\" y=\"" << top << "\" width=\"" << kColumn << "\" height=\""
        << bottom - top << "\" fill=\"#f3f3f3\" stroke=\"#999\"/>\n";
  for (double v = 0; v <= y_max + y_step / 2; v += y_step)
    svg << "<text x=\"" << kLeft - 8 << "\" y=\"" << y_of(v) + 4 << "\" font-size=\"12\" text-anchor=\"end\">"
        << format(y_step < 1 ? "%.1f" : "%.0f", v) << "</text>\n";
  if (log_axis)
    for (double d = decade_lo; d <= decade_hi; ++d)
      svg << "<text x=\"" << x_of_kld(std::pow(10, d)) << "\" y=\"" << bottom + 20
          << "\" font-size=\"12\" text-anchor=\"middle\">10<tspan dy=\"-6\" font-size=\"9\">" << format("%.0f", d)
          << "</tspan></text>\n";
  svg << "<text x=\"" << kLeft + kColumn / 2 << "\" y=\"" << bottom + 18
      << "\" font-size=\"11\" text-anchor=\"middle\">reference</text><text x=\"" << kLeft + kColumn / 2 << "\" y=\""
      << bottom + 31 << "\" font-size=\"11\" text-anchor=\"middle\">(KLD 0)</text>\n";
  if (unmeasured)
    svg << "<text x=\"" << kRight - kColumn / 2 << "\" y=\"" << bottom + 18
        << "\" font-size=\"11\" text-anchor=\"middle\">KLD not</text><text x=\"" << kRight - kColumn / 2 << "\" y=\""
        << bottom + 31 << "\" font-size=\"11\" text-anchor=\"middle\">measured</text>\n";
  svg << "<text x=\"" << (axis_x0 + axis_x1) / 2 << "\" y=\"" << bottom + 52
      << "\" font-size=\"13\" text-anchor=\"middle\">"
      << (log_axis ? "KL divergence against " + escape(r.reference_precision) + " (mean nats per token, log scale)"
                   : std::string("KL divergence not measured (no --ppl-file)"))
      << "</text>\n<text transform=\"translate(24," << (top + bottom) / 2
      << ") rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">decode tokens/s (median of " << r.runs << " runs, "
      << r.decode_tokens << " tokens)</text>\n";

  // The points, largest first so that small ones stay visible on top.
  std::vector<Point> points;
  for (const PrecisionRow* row : rows) {
    const bool reference = row->engine == "phirun" && row->precision == r.reference_precision;
    const double x = row->kld_mean && *row->kld_mean > 0 ? x_of_kld(*row->kld_mean)
                     : reference                         ? kLeft + kColumn / 2
                                                         : kRight - kColumn / 2;
    const size_t color =
        size_t(std::find(thread_counts.begin(), thread_counts.end(), row->threads) - thread_counts.begin());
    const std::string label =
        (row->engine == "phirun" ? "" : row->engine + " ") + row->precision + " t" + std::to_string(row->threads);
    points.push_back({row, x, y_of(row->decode->median),
                      std::max(3.0, kMaxRadius * std::sqrt(double(row->file_bytes) / double(largest))),
                      kColors[color % 6], label});
  }
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.radius > b.radius; });
  for (const Point& p : points) {
    const PrecisionRow& row = *p.row;
    char data[512];
    std::snprintf(data, sizeof data,
                  "data-engine=\"%s\" data-precision=\"%s\" data-threads=\"%d\" data-file-bytes=\"%llu\" "
                  "data-decode-median=\"%.17g\" data-kld=\"%s\"",
                  escape(row.engine).c_str(), escape(row.precision).c_str(), row.threads,
                  static_cast<unsigned long long>(row.file_bytes), row.decode->median,
                  row.kld_mean ? format("%.17g", *row.kld_mean).c_str() : "");
    svg << "<g " << data << ">\n<title>" << escape(p.label) << ": " << table_spread(row.decode) << " tok/s, "
        << format("%.2f MB", double(row.file_bytes) / 1e6)
        << (row.kld_mean ? ", KLD " + format("%.6f", *row.kld_mean) : std::string()) << "</title>\n";
    svg << "<line x1=\"" << p.x << "\" y1=\"" << y_of(row.decode->p10) << "\" x2=\"" << p.x << "\" y2=\""
        << y_of(row.decode->p90) << "\" stroke=\"" << p.color << "\" stroke-width=\"2\"/>\n";
    if (row.engine == "phirun") {
      svg << "<circle cx=\"" << p.x << "\" cy=\"" << p.y << "\" r=\"" << p.radius << "\" fill=\"" << p.color
          << "\" fill-opacity=\"0.45\" stroke=\"" << p.color << "\"/>\n";
    } else {  // a square of the same area as the circle would have
      const double side = p.radius * std::sqrt(M_PI);
      svg << "<rect x=\"" << p.x - side / 2 << "\" y=\"" << p.y - side / 2 << "\" width=\"" << side << "\" height=\""
          << side << "\" fill=\"" << p.color << "\" fill-opacity=\"0.45\" stroke=\"#000\" stroke-dasharray=\"3,2\"/>\n";
    }
    svg << "</g>\n";
  }
  // Labels right of each point (left of it in the right-hand column), nudged apart.
  std::vector<Box> placed;
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.y < b.y; });
  for (const Point& p : points) {
    const double width = 6.5 * double(p.label.size());
    const bool leftward = p.x + p.radius + 4 + width > kWidth - 4;
    const double x0 = leftward ? p.x - p.radius - 4 - width : p.x + p.radius + 4;
    double y = p.y + 4;
    for (bool moved = true; moved;) {
      moved = false;
      for (const Box& b : placed)
        if (x0 < b.x1 && x0 + width > b.x0 && y - 11 < b.y1 && y > b.y0) {
          y = b.y1 + 12;
          moved = true;
        }
    }
    placed.push_back({x0, y - 11, x0 + width, y + 1});
    svg << "<text x=\"" << x0 << "\" y=\"" << y << "\" font-size=\"11.5\">" << escape(p.label) << "</text>\n";
  }
  if (points.empty())
    svg << "<text x=\"" << (kLeft + kRight) / 2 << "\" y=\"" << (top + bottom) / 2
        << "\" font-size=\"14\" text-anchor=\"middle\">no decode speed measured (-n 0)</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace phirun::cli
