// Picks the kernel table at run time: AVX2+FMA when CPUID (and the OS, via XGETBV) say so,
// else the portable one. INKLING_CPU_ISA=portable|avx2|auto overrides (tests run both paths).
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace inkling {

bool cpuHasAvx2Fma() {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  // __builtin_cpu_supports checks the OS saves the ymm registers too (XGETBV) in GCC >= 9.
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const KernelTable* selectKernels(const char* isa) {
  const std::string want = isa && *isa ? isa : "auto";
  if (want == "portable") return portableKernels();
  if (want == "avx2") {
    if (!avx2Kernels() || !cpuHasAvx2Fma())
      throw std::runtime_error("INKLING_CPU_ISA=avx2 asked for the AVX2+FMA path, but this CPU (or build) lacks it; "
                               "unset INKLING_CPU_ISA or set it to portable");
    return avx2Kernels();
  }
  if (want == "auto") return avx2Kernels() && cpuHasAvx2Fma() ? avx2Kernels() : portableKernels();
  throw std::runtime_error("INKLING_CPU_ISA must be auto, avx2 or portable, not '" + want + "'");
}

}  // namespace inkling
