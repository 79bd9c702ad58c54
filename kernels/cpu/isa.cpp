// CPU feature detection and the choice of kernel variant.
#include "kernels/cpu/isa.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace phirun {

namespace {

#if defined(__x86_64__)
// CPUID leaf 1, ECX bit 29: read directly because clang before 15 (the fuzz build's Debian clang
// 14) does not know "f16c" in __builtin_cpu_supports.
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}
#endif

constexpr std::pair<Isa, std::string_view> kNames[] = {
    {Isa::Scalar, "scalar"},         {Isa::Avx2, "avx2"}, {Isa::Avx512, "avx512"},
    {Isa::Avx512Vnni, "avx512vnni"}, {Isa::Neon, "neon"},
};

bool cpu_runs(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return true;
#if defined(__x86_64__) && defined(PHIRUN_HAVE_X86_KERNELS)
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    case Isa::Avx512:
      return cpu_runs(Isa::Avx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    case Isa::Avx512Vnni:
      return cpu_runs(Isa::Avx512) && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16");
#endif
#if defined(__aarch64__) && defined(PHIRUN_HAVE_NEON_KERNELS)
    case Isa::Neon:
#if defined(__linux__)
      return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
      return false;
#endif
#endif
    default:
      return false;
  }
}

Isa choose_isa() {
  if (const char* forced = std::getenv("PHIRUN_ISA"); forced && *forced) {
    const std::optional<Isa> isa = isa_from_name(forced);
    if (!isa) throw std::runtime_error(std::string("PHIRUN_ISA=") + forced + ": unknown kernel variant");
    if (!cpu_runs(*isa))
      throw std::runtime_error(std::string("PHIRUN_ISA=") + forced + ": this CPU (or this build) cannot run it");
    return *isa;
  }
  return supported_isas().back();
}

std::atomic<int> g_active{-1};

}  // namespace

std::string_view isa_name(Isa isa) {
  for (const auto& [value, name] : kNames)
    if (value == isa) return name;
  return "unknown";
}

std::optional<Isa> isa_from_name(std::string_view name) {
  for (const auto& [value, known] : kNames)
    if (known == name) return value;
  return std::nullopt;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (const auto& [isa, name] : kNames)
    if (cpu_runs(isa)) isas.push_back(isa);
  return isas;
}

std::string detected_cpu_features() {
  std::string features;
  auto add = [&](bool present, std::string_view name) {
    if (!present) return;
    if (!features.empty()) features += ' ';
    features += name;
  };
#if defined(__x86_64__)
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
  add(cpu_has_f16c(), "f16c");
  add(__builtin_cpu_supports("avx512f"), "avx512f");
  add(__builtin_cpu_supports("avx512bw"), "avx512bw");
  add(__builtin_cpu_supports("avx512vl"), "avx512vl");
  add(__builtin_cpu_supports("avx512dq"), "avx512dq");
  add(__builtin_cpu_supports("avx512vnni"), "avx512vnni");
  add(__builtin_cpu_supports("avx512bf16"), "avx512bf16");
#elif defined(__aarch64__) && defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  add((hwcap & HWCAP_ASIMD) != 0, "asimd");
  add((hwcap & HWCAP_ASIMDDP) != 0, "dotprod");
  add((hwcap & HWCAP_FPHP) != 0, "fp16");
#endif
  return features.empty() ? "none" : features;
}

Isa active_isa() {
  int current = g_active.load(std::memory_order_acquire);
  if (current < 0) {
    const Isa chosen = choose_isa();
    int expected = -1;
    g_active.compare_exchange_strong(expected, int(chosen), std::memory_order_acq_rel);
    current = g_active.load(std::memory_order_acquire);
  }
  return Isa(current);
}

void force_isa(Isa isa) {
  if (!cpu_runs(isa))
    throw std::runtime_error("kernel variant " + std::string(isa_name(isa)) +
                             ": this CPU (or this build) cannot run it");
  g_active.store(int(isa), std::memory_order_release);
}

}  // namespace phirun
