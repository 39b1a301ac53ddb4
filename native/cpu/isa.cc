// Picks the kernel table at run time from what the CPU and the OS support:
//   avx512   AVX512F + BW + DQ + VL (CPUID leaf 7) and the OS saves opmask and zmm state (XCR0 bits 5-7)
//   avx2     AVX2 (leaf 7) + FMA (leaf 1) and the OS saves ymm state (XCR0 bits 1-2)
//   neon     AArch64 Advanced SIMD (part of the base ISA; on Linux the kernel's HWCAP_ASIMD bit is
//            checked too)
//   portable anything else
// CPUID only says what the silicon has: without OS support (XGETBV, after checking OSXSAVE) the
// first zmm instruction faults, so both are required. INKLING_CPU_ISA=auto|avx512|avx2|neon|portable
// overrides the automatic choice (tests run every path the machine has).
#include <stdexcept>
#include <string>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#define INKLING_X86 1
#else
#define INKLING_X86 0
#endif

#include "kernels.h"

namespace inkling {

CpuFeatures cpuFeaturesFrom(uint32_t leaf1Ecx, uint32_t leaf7Ebx, uint64_t xcr0) {
  const auto bit = [](uint64_t word, int b) { return ((word >> b) & 1u) != 0; };
  CpuFeatures f;
  f.fma = bit(leaf1Ecx, 12);
  f.osxsave = bit(leaf1Ecx, 27);
  f.avx2 = bit(leaf7Ebx, 5);
  f.avx512f = bit(leaf7Ebx, 16);
  f.avx512dq = bit(leaf7Ebx, 17);
  f.avx512bw = bit(leaf7Ebx, 30);
  f.avx512vl = bit(leaf7Ebx, 31);
  const uint64_t xcr = f.osxsave ? xcr0 : 0;  // XGETBV is not even allowed without OSXSAVE
  f.xcr0 = xcr;
  f.osYmm = (xcr & 0x6) == 0x6;     // SSE and AVX (upper ymm) state
  f.osZmm = (xcr & 0xE6) == 0xE6;   // + opmask, upper zmm0-15, zmm16-31
  return f;
}

CpuFeatures detectCpuFeatures() {
#if INKLING_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  uint32_t leaf1Ecx = 0, leaf7Ebx = 0;
  uint64_t xcr0 = 0;
  if (__get_cpuid(1, &a, &b, &c, &d)) leaf1Ecx = c;
  if (__get_cpuid_max(0, nullptr) >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) leaf7Ebx = b;
  if ((leaf1Ecx >> 27) & 1u) {
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));  // the encoding, so no -mxsave is needed
    xcr0 = (uint64_t(hi) << 32) | lo;
  }
  return cpuFeaturesFrom(leaf1Ecx, leaf7Ebx, xcr0);
#else
  return CpuFeatures{};
#endif
}

std::string avx2Missing(const CpuFeatures& f) {
  std::string missing;
  if (!f.avx2) missing += " AVX2";
  if (!f.fma) missing += " FMA";
  if (!missing.empty()) return "this CPU lacks" + missing + " (CPUID)";
  if (!f.osYmm) return "the OS does not save the ymm registers (XGETBV)";
  return "";
}

std::string avx512Missing(const CpuFeatures& f) {
  std::string missing;
  if (!f.avx512f) missing += " AVX512F";
  if (!f.avx512bw) missing += " AVX512BW";
  if (!f.avx512dq) missing += " AVX512DQ";
  if (!f.avx512vl) missing += " AVX512VL";
  if (!missing.empty()) return "this CPU lacks" + missing + " (CPUID)";
  if (!f.osZmm) return "the OS does not save the opmask and zmm registers (XGETBV)";
  return avx2Missing(f);
}

bool cpuHasAvx2Fma() { return avx2Missing(detectCpuFeatures()).empty(); }

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
bool neonUsable() { return neonKernels() && cpuHasNeon(); }
}  // namespace

/** Why the AVX-512 table cannot run here ("" when it can). The SIMDe build's emulated table runs
 *  wherever its AVX2 halves can. */
std::string avx512Unavailable() {
  if (!avx512Kernels()) return "this build has no AVX-512 table (not x86-64)";
  const CpuFeatures f = detectCpuFeatures();
  return avx512Emulated() ? avx2Missing(f) : avx512Missing(f);
}

std::string avx2Unavailable() {
  if (!avx2Kernels()) return "this build has no AVX2 table (not x86-64)";
  return avx2Missing(detectCpuFeatures());
}

const KernelTable* selectKernels(const char* isa) {
  const std::string want = isa && *isa ? isa : "auto";
  if (want == "portable") return portableKernels();
  if (want == "avx2") {
    const std::string why = avx2Unavailable();
    if (!why.empty())
      throw std::runtime_error("INKLING_CPU_ISA=avx2 asked for the AVX2+FMA path, but " + why +
                               "; unset INKLING_CPU_ISA or set it to portable");
    return avx2Kernels();
  }
  if (want == "avx512") {
    const std::string why = avx512Unavailable();
    if (!why.empty())
      throw std::runtime_error("INKLING_CPU_ISA=avx512 asked for the AVX-512 path, but " + why +
                               "; unset INKLING_CPU_ISA or set it to avx2 or portable");
    return avx512Kernels();
  }
  if (want == "neon") {
    if (!neonUsable())
      throw std::runtime_error("INKLING_CPU_ISA=neon asked for the AArch64 NEON path, but this CPU (or build) is not "
                               "AArch64; unset INKLING_CPU_ISA or set it to portable");
    return neonKernels();
  }
  if (want == "auto") {
    // The emulated table (test-only SIMDe build) is never picked automatically.
    if (!avx512Emulated() && avx512Unavailable().empty()) return avx512Kernels();
    if (avx2Unavailable().empty()) return avx2Kernels();
    if (neonUsable()) return neonKernels();
    return portableKernels();
  }
  throw std::runtime_error("INKLING_CPU_ISA must be auto, avx512, avx2, neon or portable, not '" + want + "'");
}

}  // namespace inkling
