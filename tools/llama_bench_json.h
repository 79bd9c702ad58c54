// `--compare-llama-bench FILE`: llama.cpp's own measurements (`llama-bench -o json`) as rows of the
// precision report, so both engines share one table, JSON, CSV and picture.
#pragma once

#include <string>
#include <vector>

#include "tools/bench_report.h"

namespace phirun::cli {

// One row per model file and thread count, with its prompt (pp) and generation (tg) tests at
// depth 0 as prefill and decode (median, p10, p90 of llama-bench's samples). Throws
// std::runtime_error("FILE: problem") for a file that is not llama-bench JSON output.
std::vector<PrecisionRow> read_llama_bench_json(const std::string& path);

}  // namespace phirun::cli
