// The AVX-512 kernel table (AVX512F/BW/DQ/VL, 32 zmm registers). Only this file is built with
// -mavx512f -mavx512bw -mavx512dq -mavx512vl (binding.gyp's inkling_cpu_avx512 target), so the
// addon still loads on CPUs without them; isa.cc calls into it only after CPUID says the CPU has
// all four and XGETBV says the OS saves the opmask and zmm state.
//
// The same file is compiled a second time, test-only, against SIMD Everywhere (INKLING_SIMDE=1,
// native/cpu/simde/): that build runs this table's logic (indexing, tails, masks, packing) on a
// CPU without AVX-512, which is emulation, not a test of the hardware path.
#if defined(__x86_64__) || defined(_M_X64)
// GCC 12's own avx512fintrin.h trips -Wmaybe-uninitialized when _mm512_max_ps and friends are
// inlined (they start from _mm512_undefined_ps); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define INKLING_NS inkling_avx512
#define INKLING_AVX2 1
#define INKLING_AVX512 1
#if INKLING_SIMDE
#define INKLING_ISA_NAME "avx512-simde"
#else
#define INKLING_ISA_NAME "avx512"
#endif
#include "kernels_impl.h"

namespace inkling {
const KernelTable* avx512Kernels() { return &inkling_avx512::kTable; }
bool avx512Emulated() { return INKLING_SIMDE != 0; }
}  // namespace inkling
#else
#include "kernels.h"

namespace inkling {
const KernelTable* avx512Kernels() { return nullptr; }
bool avx512Emulated() { return false; }
}  // namespace inkling
#endif
