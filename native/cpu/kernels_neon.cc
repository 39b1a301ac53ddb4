// The AArch64 Advanced SIMD (NEON) kernel table: the GEMM micro-kernel as explicit FMLA
// (vfmaq_laneq_f32 / vfmaq_n_f32), the 2x2 max pool with vld2q de-interleaving, and the FMA peak
// microbenchmark, the rest as in the portable table (which the compiler also vectorizes for NEON).
// Advanced SIMD is part of the AArch64 base ISA, so this file needs no extra compiler flags and
// the table is always usable there (Apple Silicon, Graviton, Ampere); isa.cc still asks the OS
// (getauxval(AT_HWCAP) & HWCAP_ASIMD on Linux) before choosing it. On other architectures it only
// says that there is no such table.
#if defined(__aarch64__) || defined(_M_ARM64)
#define INKLING_NS inkling_neon
#define INKLING_AVX2 0
#define INKLING_NEON 1
#define INKLING_ISA_NAME "neon"
#include "kernels_impl.h"

namespace inkling {
const KernelTable* neonKernels() { return &inkling_neon::kTable; }
}  // namespace inkling
#else
#include "kernels.h"

namespace inkling {
const KernelTable* neonKernels() { return nullptr; }
}  // namespace inkling
#endif
