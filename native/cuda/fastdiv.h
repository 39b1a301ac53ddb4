// Integer division by a divisor fixed at launch time, as a multiply-high and a shift (the
// round-up method of Granlund & Montgomery, as in CUTLASS's FastDivmod). The implicit-GEMM
// loaders split every index into (image, pixel, channel, tap) several times per element; a
// hardware-less `n / d` with a runtime d costs ~20 instructions, this costs 2-3.
//
//   l = ceil(log2 d),  p = 31 + l,  mul = ceil(2^p / d)  (< 2^32 for d >= 2),  shift = l − 1
//   n / d = umulhi(n, mul) >> shift      exact for every 0 <= n < 2^31   (d = 1: n itself)
// Proof sketch: mul·d = 2^p + e with 0 <= e < d <= 2^l, so n·mul / 2^p = n/d + n·e/(d·2^p) and
// n·e < 2^31·2^l = 2^p keeps the error below 1/d: the floor is exact.
// Plain C++ too (host path with a 64-bit multiply), so dev/fastdiv_check.cpp and test/cuda can
// check it exhaustively on a machine without a GPU.
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define INKLING_HD __host__ __device__ __forceinline__
#else
#define INKLING_HD inline
#endif

namespace inkling {

struct FastDiv {
  int32_t d = 1;
  uint32_t mul = 0;
  uint32_t shift = 0;

  FastDiv() = default;
  explicit FastDiv(int32_t divisor) : d(divisor) {
    if (divisor <= 1) return;  // d = 1 (and the never-used d <= 0) divide as identity
    uint32_t l = 0;
    while ((1ull << l) < (uint64_t)divisor) l++;
    const uint64_t p = 31 + l;
    mul = (uint32_t)(((1ull << p) + (uint64_t)divisor - 1) / (uint64_t)divisor);
    shift = l - 1;
  }

  /** n / d for 0 <= n < 2^31. */
  INKLING_HD int32_t div(int32_t n) const {
    if (d <= 1) return n;
#if defined(__CUDA_ARCH__)
    return (int32_t)(__umulhi((uint32_t)n, mul) >> shift);
#else
    return (int32_t)((((uint64_t)(uint32_t)n * mul) >> 32) >> shift);
#endif
  }
  /** n mod d, given q = div(n). */
  INKLING_HD int32_t mod(int32_t n, int32_t q) const { return n - q * d; }
};

}  // namespace inkling
