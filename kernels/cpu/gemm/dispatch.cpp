// The kernel table of each SIMD variant, built once on first use from the family files.
#include "kernels/cpu/gemm/family_variants.h"

namespace phirun {

namespace {

#define PHIRUN_TABLE(isa_enum, isa)                                                                 \
  GemmKernels {                                                                                     \
    isa_enum, f32_kernels_##isa(), f16_kernels_##isa(), bf16_kernels_##isa(), q8_0_kernels_##isa(), \
        q4_0_kernels_##isa(), q4_1_kernels_##isa(), quantize_rows_##isa()                           \
  }

}  // namespace

const GemmKernels* gemm_kernels(Isa isa) {
  switch (isa) {
#if defined(PHIRUN_HAVE_X86_KERNELS)
    case Isa::Avx2: {
      static const GemmKernels table = PHIRUN_TABLE(Isa::Avx2, avx2);
      return &table;
    }
    case Isa::Avx512: {
      static const GemmKernels table = PHIRUN_TABLE(Isa::Avx512, avx512);
      return &table;
    }
    case Isa::Avx512Vnni: {
      static const GemmKernels table = PHIRUN_TABLE(Isa::Avx512Vnni, avx512vnni);
      return &table;
    }
#endif
#if defined(PHIRUN_HAVE_NEON_KERNELS)
    case Isa::Neon: {
      static const GemmKernels table = PHIRUN_TABLE(Isa::Neon, neon);
      return &table;
    }
#endif
    default:
      return nullptr;
  }
}

#undef PHIRUN_TABLE

}  // namespace phirun
