// Text of the progress bar. The estimate scales the elapsed time by the bytes (or chunks) left.
#include "models/builder/progress.h"

#include <cstdio>

namespace phirun::builder {

std::string format_bytes(uint64_t bytes) {
  char text[32];
  if (bytes >= 1000000000ull) {
    std::snprintf(text, sizeof text, "%.2f GB", double(bytes) / 1e9);
  } else if (bytes >= 1000000ull) {
    std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.0f KB", double(bytes) / 1e3);
  }
  return text;
}

std::string format_progress(const BuildProgress& progress, int bar_width) {
  // Writing is measured in bytes (tensors differ a thousandfold in size), calibration in chunks.
  const bool by_bytes = progress.bytes_total > 0;
  const double fraction = by_bytes             ? double(progress.bytes_written) / double(progress.bytes_total)
                          : progress.total > 0 ? double(progress.done) / double(progress.total)
                                               : 0.0;
  std::string line = progress.stage + " [";
  const int filled = int(fraction * bar_width + 0.5);
  line.append(size_t(std::max(0, filled)), '#');
  line.append(size_t(std::max(0, bar_width - filled)), '-');
  char text[160];
  if (by_bytes) {
    std::snprintf(text, sizeof text, "] %lld/%lld tensors  %s/%s", static_cast<long long>(progress.done),
                  static_cast<long long>(progress.total), format_bytes(progress.bytes_written).c_str(),
                  format_bytes(progress.bytes_total).c_str());
  } else {
    std::snprintf(text, sizeof text, "] %lld/%lld chunks", static_cast<long long>(progress.done),
                  static_cast<long long>(progress.total));
  }
  line += text;
  std::snprintf(text, sizeof text, "  %.1f s", progress.elapsed_seconds);
  line += text;
  if (fraction > 0.02 && fraction < 1.0) {
    std::snprintf(text, sizeof text, ", ~%.1f s left", progress.stage_seconds * (1.0 - fraction) / fraction);
    line += text;
  }
  if (!progress.current.empty() && fraction < 1.0) line += "  " + progress.current;
  return line;
}

}  // namespace phirun::builder
