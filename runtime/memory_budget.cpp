// Memory figures of this machine and the budget check of model loading and KV cache creation.
#include "runtime/memory_budget.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace phirun {

uint64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return UINT64_MAX;
  return uint64_t(pages) * uint64_t(page_size);
}

std::string describe_bytes(uint64_t bytes) {
  char text[48];
  if (bytes >= (1ull << 30))
    std::snprintf(text, sizeof text, "%.2f GiB", double(bytes) / double(1ull << 30));
  else
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(1ull << 20));
  return text;
}

uint64_t parse_byte_size(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();  // GiB = G: binary units
  double scale = 0;
  if (unit.empty())
    scale = 1;
  else if (unit == "K" || unit == "k")
    scale = 1ull << 10;
  else if (unit == "M" || unit == "m")
    scale = 1ull << 20;
  else if (unit == "G" || unit == "g")
    scale = 1ull << 30;
  else if (unit == "T" || unit == "t")
    scale = double(1ull << 40);
  if (used == 0 || scale == 0 || !std::isfinite(value) || value <= 0 || value * scale >= 1.8e19)
    throw std::runtime_error("memory size '" + text + "' is not a positive size such as 4G, 512M or 1000000");
  return uint64_t(value * scale);
}

void check_memory_need(const std::string& prefix, const MemoryNeed& need, uint64_t max_memory_bytes) {
  const double total = double(need.weights_bytes) + need.kv_bytes;
  const uint64_t limit = max_memory_bytes ? max_memory_bytes : physical_memory_bytes();
  if (total <= double(limit)) return;
  const auto shown = [](double bytes) { return describe_bytes(bytes >= 1.8e19 ? UINT64_MAX : uint64_t(bytes)); };
  std::string message = prefix + "needs " + shown(total) + " (weights " + describe_bytes(need.weights_bytes) + " + " +
                        need.kv_what + " " + shown(need.kv_bytes) + ")";
  if (max_memory_bytes) {
    message += " but --max-memory allows " + describe_bytes(max_memory_bytes);
    if (const uint64_t available = available_memory_bytes())
      message += " (" + describe_bytes(available) + " available now)";
  } else {
    message += ", more than this machine's " + describe_bytes(limit) + " of memory";
  }
  throw MemoryBudgetError(message + ": " + need.advice);
}

}  // namespace phirun
