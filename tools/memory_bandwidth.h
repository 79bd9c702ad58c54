// This machine's memory read bandwidth, measured once per `phirun bench --precisions` run: the
// roof that decode, which reads every weight once per token, cannot go past.
#pragma once

#include <string>

namespace phirun::cli {

// GB/s (1e9 bytes) that `threads` threads reach summing a buffer far larger than the last-level
// cache, each thread its own contiguous part; the best of several passes.
double measure_read_bandwidth(int threads);

// One line saying how measure_read_bandwidth measures, for the reports.
std::string read_bandwidth_method();

}  // namespace phirun::cli
