// The op kernel table of each variant, built once on first use.
#include "kernels/cpu/op_kernels.h"

namespace phirun {

const OpKernels* op_kernels(Isa isa) {
  switch (isa) {
#if defined(PHIRUN_HAVE_X86_KERNELS)
    case Isa::Avx2: {
      static const OpKernels table = op_kernels_avx2();
      return &table;
    }
    case Isa::Avx512:
    case Isa::Avx512Vnni: {
      static const OpKernels table = op_kernels_avx512();
      return &table;
    }
#endif
#if defined(PHIRUN_HAVE_NEON_KERNELS)
    case Isa::Neon: {
      static const OpKernels table = op_kernels_neon();
      return &table;
    }
#endif
    default:
      return nullptr;
  }
}

}  // namespace phirun
