// report.svg of `phirun bench --precisions`: decode tokens/s against KL divergence, one point per
// precision and thread count (llama.cpp's rows as squares), area proportional to file size.
#pragma once

#include <string>

#include "tools/bench_report.h"

namespace phirun::cli {

// A self-contained SVG document. Every point carries its numbers as data-* attributes (the same
// %.17g digits as report.csv), so a test can check the picture against the other reports.
std::string report_svg(const PrecisionReport& report);

}  // namespace phirun::cli
