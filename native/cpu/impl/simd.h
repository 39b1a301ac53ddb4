// The vector layer the hand-written kernels are written against, one definition per ISA path:
//   AVX-512 (kernels_avx512.cc): 16 float lanes in zmm registers, tails by mask registers;
//   AVX2 (kernels_avx2.cc):      8 float lanes in ymm registers, tails by vmaskmov;
//   portable:                    no vector type (the kernels keep plain loops that the compiler
//                                vectorizes for the baseline ISA).
// Kernels that use it are written once (`#if INKLING_VEC`) for both vector widths: VL lanes,
// vf a vector, vloadN/vstoreN for the last partial vector of a row.
//
// Under INKLING_SIMDE (the test-only build of the AVX-512 table against SIMD Everywhere, see
// native/cpu/simde/README.md) the same source runs on any x86-64; SIMDe 0.7.4 lacks the masked
// loads and stores, so only vloadN/vstoreN are written differently there (through a stack
// buffer). Everything else is the code that runs on AVX-512 hardware.
#pragma once

namespace INKLING_NS {

#if INKLING_AVX2
/** lo, hi = 8-lane a and b interleaved: a0 b0 a1 b1 … (lo holds lanes 0..3 of each). The AVX2
 *  table's vinterleave, and the AVX-512 table's 8-lane tile rows (winograd.h's HalfLanes). */
static inline void interleave8(__m256 a, __m256 b, __m256& lo, __m256& hi) {
  const __m256 t0 = _mm256_unpacklo_ps(a, b), t1 = _mm256_unpackhi_ps(a, b);  // a0 b0 a1 b1 | a4 b4 a5 b5, …
  lo = _mm256_permute2f128_ps(t0, t1, 0x20);
  hi = _mm256_permute2f128_ps(t0, t1, 0x31);
}
#endif

#if INKLING_AVX512
#define INKLING_VEC 1
constexpr int VL = 16;
using vf = __m512;
using vi = __m512i;
#if INKLING_SIMDE
using vmask = simde__mmask16;
#else
using vmask = __mmask16;
#endif

static inline vf vzero() { return _mm512_setzero_ps(); }
static inline vf vset1(float x) { return _mm512_set1_ps(x); }
static inline vf vload(const float* p) { return _mm512_loadu_ps(p); }
static inline void vstore(float* p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf vbroadcast(const float* p) { return _mm512_set1_ps(*p); }
static inline vf vfmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
/** a > 0 ? b : 0, lane by lane. */
static inline vf vselectPositive(vf a, vf b) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_GT_OQ), b);
}
static inline uint32_t tailMask(int n) { return n >= 16 ? 0xffffu : (1u << n) - 1u; }
#if INKLING_SIMDE
static inline vf vloadN(const float* p, int n) {
  alignas(64) float t[16] = {};
  std::memcpy(t, p, sizeof(float) * n);
  return _mm512_load_ps(t);
}
static inline void vstoreN(float* p, vf v, int n) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  std::memcpy(p, t, sizeof(float) * n);
}
#else
/** The first n lanes from p (n in [0, VL]); lanes past n are zero and their memory is not read. */
static inline vf vloadN(const float* p, int n) { return _mm512_maskz_loadu_ps(vmask(tailMask(n)), p); }
/** Stores the first n lanes (n in [0, VL]); memory past them is not touched. */
static inline void vstoreN(float* p, vf v, int n) { _mm512_mask_storeu_ps(p, vmask(tailMask(n)), v); }
#endif
/** The first n lanes from p, zeros past them; the whole vector's memory must be readable (on
 *  AVX2 this is a plain load and a mask, cheaper than the masked load). */
static inline vf vloadReadable(const float* p, int n) { return vloadN(p, n); }
/** lo, hi = a and b interleaved: a0 b0 a1 b1 … (lo holds lanes 0..VL/2 − 1 of each). */
static inline void vinterleave(vf a, vf b, vf& lo, vf& hi) {
  lo = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
  hi = _mm512_permutex2var_ps(a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b);
}
/** even, odd = the even and the odd lanes of a then b: a0 a2 … b0 b2 …, a1 a3 … b1 b3 …
 *  (vinterleave's inverse). */
static inline void vdeinterleave(vf a, vf b, vf& even, vf& odd) {
  even = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
  odd = _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
}
/** Horizontal sum in a fixed order (halves folded pairwise), so results never depend on timing. */
static inline float vsum(vf v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  float s8[8];
  for (int i = 0; i < 8; ++i) s8[i] = t[i] + t[i + 8];
  return ((s8[0] + s8[4]) + (s8[2] + s8[6])) + ((s8[1] + s8[5]) + (s8[3] + s8[7]));
}

#elif INKLING_AVX2
#define INKLING_VEC 1
constexpr int VL = 8;
using vf = __m256;
using vi = __m256i;

static inline vf vzero() { return _mm256_setzero_ps(); }
static inline vf vset1(float x) { return _mm256_set1_ps(x); }
static inline vf vload(const float* p) { return _mm256_loadu_ps(p); }
static inline void vstore(float* p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vbroadcast(const float* p) { return _mm256_broadcast_ss(p); }
static inline vf vfmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vselectPositive(vf a, vf b) {
  return _mm256_and_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GT_OQ), b);
}
alignas(64) static const int32_t kTailLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static inline __m256i tailMaskVec(int n) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailLanes + 8 - n)); }
// vmaskmovps is slow on AMD (Zen 1: about 10 cycles per load and 12 per store, against 0.5 for a
// plain load), so the masked forms are used only for a genuinely partial vector, and stores never.
static inline vf vloadN(const float* p, int n) {
  if (n >= 8) return _mm256_loadu_ps(p);
  return n <= 0 ? _mm256_setzero_ps() : _mm256_maskload_ps(p, tailMaskVec(n));
}
static inline void vstoreN(float* p, vf v, int n) {
  if (n >= 8) return _mm256_storeu_ps(p, v);
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  for (int i = 0; i < n; ++i) p[i] = t[i];
}
static inline vf vloadReadable(const float* p, int n) {
  const vf v = _mm256_loadu_ps(p);
  return n >= 8 ? v : _mm256_and_ps(v, _mm256_castsi256_ps(tailMaskVec(n)));
}
static inline void vinterleave(vf a, vf b, vf& lo, vf& hi) { interleave8(a, b, lo, hi); }
static inline void vdeinterleave(vf a, vf b, vf& even, vf& odd) {
  // a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit pairs in order
  const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}
static inline float vsum(vf v) {
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  return ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
}

#else
#define INKLING_VEC 0
#endif

}  // namespace INKLING_NS
