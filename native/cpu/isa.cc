// Picks the kernel table at run time:
//   x86-64:  AVX2+FMA when CPUID (and the OS, via XGETBV) say so, else portable;
//   AArch64: NEON (Advanced SIMD, part of the base ISA; on Linux the kernel's HWCAP_ASIMD bit is
//            checked too), else portable;
//   others:  portable.
// INKLING_CPU_ISA=auto|avx2|neon|portable overrides (tests run every path the machine has).
#include <stdexcept>
#include <string>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

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

bool cpuHasNeon() {
#if defined(__aarch64__) && defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#elif defined(__aarch64__) || defined(_M_ARM64)
  return true;  // macOS on Apple Silicon, Windows on Arm: Advanced SIMD is always there
#else
  return false;
#endif
}

namespace {
bool avx2Usable() { return avx2Kernels() && cpuHasAvx2Fma(); }
bool neonUsable() { return neonKernels() && cpuHasNeon(); }
}  // namespace

const KernelTable* selectKernels(const char* isa) {
  const std::string want = isa && *isa ? isa : "auto";
  if (want == "portable") return portableKernels();
  if (want == "avx2") {
    if (!avx2Usable())
      throw std::runtime_error("INKLING_CPU_ISA=avx2 asked for the AVX2+FMA path, but this CPU (or build) lacks it; "
                               "unset INKLING_CPU_ISA or set it to portable");
    return avx2Kernels();
  }
  if (want == "neon") {
    if (!neonUsable())
      throw std::runtime_error("INKLING_CPU_ISA=neon asked for the AArch64 NEON path, but this CPU (or build) is not "
                               "AArch64; unset INKLING_CPU_ISA or set it to portable");
    return neonKernels();
  }
  if (want == "auto") {
    if (avx2Usable()) return avx2Kernels();
    if (neonUsable()) return neonKernels();
    return portableKernels();
  }
  throw std::runtime_error("INKLING_CPU_ISA must be auto, avx2, neon or portable, not '" + want + "'");
}

}  // namespace inkling
