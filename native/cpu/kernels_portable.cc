// The portable kernel table: plain C++ that the compiler vectorizes for the baseline ISA
// (SSE2 on x86-64, NEON on arm64). Selected on CPUs without AVX2+FMA or by INKLING_CPU_ISA=portable.
#define INKLING_NS inkling_portable
#define INKLING_AVX2 0
#define INKLING_ISA_NAME "portable"
#include "kernels_impl.h"

namespace inkling {
const KernelTable* portableKernels() { return &inkling_portable::kTable; }
}  // namespace inkling
