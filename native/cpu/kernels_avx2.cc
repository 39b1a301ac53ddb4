// The AVX2+FMA kernel table. Only this file (and nothing it calls outside it) is built with
// -mavx2 -mfma (binding.gyp's inkling_cpu_avx2 target), so the addon still loads on CPUs without
// AVX2; isa.cc calls into it only after CPUID says AVX2 and FMA are there. On other
// architectures it only says that there is no such table.
#if defined(__x86_64__) || defined(_M_X64)
#define INKLING_NS inkling_avx2
#define INKLING_AVX2 1
#define INKLING_ISA_NAME "avx2"
#include "kernels_impl.h"

namespace inkling {
const KernelTable* avx2Kernels() { return &inkling_avx2::kTable; }
}  // namespace inkling
#else
#include "kernels.h"

namespace inkling {
const KernelTable* avx2Kernels() { return nullptr; }
}  // namespace inkling
#endif
