// The instruction-set variants of the CPU kernels, what this CPU supports, and which one runs:
// detected once from CPUID (or the OS's hardware capabilities on Arm), overridable with the
// PHIRUN_ISA environment variable or force_isa() (the --isa flag).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phirun {

enum class Isa {
  Scalar,      // the reference kernels: plain C++ on the file's own layout
  Avx2,        // AVX2 + FMA + F16C
  Avx512,      // AVX-512 F/BW/VL/DQ (int8 dots through vpmaddubsw)
  Avx512Vnni,  // AVX-512 with VNNI (vpdpbusd) and BF16
  Neon,        // AArch64 Advanced SIMD with the dot-product extension (sdot)
};

std::string_view isa_name(Isa isa);
std::optional<Isa> isa_from_name(std::string_view name);

// The variants this CPU can run, from the least to the most capable (always includes Scalar).
std::vector<Isa> supported_isas();
// A one-line description of the CPU features seen, e.g. "avx2 fma f16c avx512f ... avx512vnni".
std::string detected_cpu_features();

// The variant in use: PHIRUN_ISA if set (throws when it names an unknown variant or one this
// CPU cannot run), else the most capable supported one. Chosen on first use, then fixed until
// force_isa() changes it.
Isa active_isa();
// Makes `isa` the variant in use; throws std::runtime_error when this CPU cannot run it.
void force_isa(Isa isa);

}  // namespace phirun
