// Packed, register-blocked SGEMM (the BLIS/GotoBLAS scheme), included once per ISA path.
//
//   C[M,N] (+)= A[M,K] · B[K,N]   with A(i,k) = a[i·rsA + k·csA], B(k,j) = b[k·rsB + j·csB]
//
// Strided views make every transpose a stride swap. Loops, outermost first:
//   jc over N by NC  ->  pc over K by KC  ->  pack B block (KC x NC, NR-wide panels, L2/L3)
//   ic over M by MC  ->  pack A block (MC x KC, MR-tall panels, L2)
//   jr over NR panels of B (one panel, KC x NR floats, stays in L1) -> ir over MR panels of A
//   -> micro-kernel: an MR x NR tile of C in registers, KC rank-1 updates.
// Micro-kernel per ISA (accumulators + B vectors + the broadcast A value ≤ the register file):
//   AVX2     6 x 16: 12 ymm accumulators + 2 B + 1 A = 15 of 16 registers; 12 FMAs per 2 loads + 6 broadcasts.
//   AVX-512 12 x 32: 24 zmm accumulators + 2 B + 1 A = 27 of 32 registers; 24 FMAs per 2 loads + 12
//            broadcasts. KC ≤ 384, as for AVX2: a B micro-panel (up to 48 KiB) then fits a 48 KiB L1
//            (Zen 5) but not a 32 KiB one (Zen 4), yet KC ≤ 192 (which would keep it there) was
//            slower on Zen 4: conv2's GEMM (K = 288, A read in place) split K in two, so its 12 A
//            row streams were walked twice, half a row at a time (2026-12-02, bench:kernels, three
//            interleaved pairs: 36-63% of the AVX-512 peak with 192 against 66-78% with 384;
//            training steps 0.98-0.99x, batch 1 unchanged).
//            MC = 144 rows of A (216 KiB at KC 384) and the B block (384 x 256, 384 KiB) sit in a
//            1-2 MiB L2.
// The vector kernels are templated on the tile's rows (1..MR) and vectors (1..NR/VL): an edge
// tile runs a kernel of its own size and the last vector of a row is loaded and stored under a
// mask, so edges cost no padded copies. Every C element is the same sequence of FMAs in k order
// whatever the blocking of M and N, so splitting the work across threads never changes a result.
// Epilogue (last K block only): + bias per row (conv: per output channel) or per column (linear),
// then ReLU.
#pragma once

#include <array>
#include <utility>

namespace INKLING_NS {

#if INKLING_AVX512
constexpr int MR = 12;
constexpr int NR = 32;
constexpr int MC = 144;
constexpr int NC = 256;
constexpr int KC_MAX = 384;
#else
constexpr int MR = 6;
constexpr int NR = 16;
constexpr int MC = 96;
constexpr int NC = 256;
constexpr int KC_MAX = 384;
#endif

struct View {
  const float* p;
  i64 rs;  // stride between rows (the first index)
  i64 cs;  // stride between columns
  float at(i64 r, i64 c) const { return p[r * rs + c * cs]; }
};

struct Epilogue {
  const float* biasRow = nullptr;  // indexed by C's row
  const float* biasCol = nullptr;  // indexed by C's column
  bool relu = false;
};

#if INKLING_VEC
constexpr int NV = NR / VL;  // vectors per tile row

// A is either packed (kDirectA = false: a[k·MR + i], MR-tall panels, zero-padded) or read in
// place from a row-major matrix (kDirectA = true: a[i·lda + k], ROWS row streams). Reading A in
// place saves the packing pass, which for a tall-skinny GEMM such as conv2's (M = N·196, N = 64)
// moves as many bytes as the kernel itself reads. B is a packed panel, NR floats per k (zero-
// padded), so full vectors are always loaded from it; only C and the column bias use the
// `lastLanes` mask (the valid lanes of the tile's last vector).
// kPrefetchA (A read in place, long K): every 16 k steps, each row's line 32 floats ahead is
// prefetched. The 12 row streams of conv2's GEMM (K = 288) outran the hardware prefetcher on Zen
// 4: 151-153 -> 172 GFLOP/s at batch 64 (65% -> 73% of the peak), 7-11% at batch 128, in
// interleaved A/Bs of two builds in one process, both orders, the same bits (2026-12-02). With
// K = 32 (Winograd's GEMMs) there is nothing ahead to fetch: those keep the kernel without it
// (with the prefetch branch in it, batch-1 inference was 2-5% slower).
template <int ROWS, int NVEC, bool kDirectA, bool kPrefetchA = false>
static void microKernel(int kc, const float* __restrict a, i64 lda, const float* __restrict b, float* c, i64 ldc,
                        int lastLanes, bool loadC, const float* biasRow, const float* biasCol, bool relu) {
  // Every loop over the tile is unrolled, so that the accumulator array becomes registers (GCC
  // otherwise keeps a stack copy of it and stores every accumulator on every k step).
  vf acc[ROWS][NVEC];
#pragma GCC unroll 16
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NVEC; ++v) acc[i][v] = vzero();
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    if (kPrefetchA && (k & 15) == 0 && k + 32 < kc) {
#pragma GCC unroll 16
      for (int i = 0; i < ROWS; ++i) _mm_prefetch(reinterpret_cast<const char*>(a + i * lda + k + 32), _MM_HINT_T0);
    }
    vf bv[NVEC];
#pragma GCC unroll 4
    for (int v = 0; v < NVEC; ++v) bv[v] = vload(b + v * VL);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; ++i) {
      const vf ai = vbroadcast(kDirectA ? a + i * lda + k : a + i);
#pragma GCC unroll 4
      for (int v = 0; v < NVEC; ++v) acc[i][v] = vfmadd(ai, bv[v], acc[i][v]);
    }
    if (!kDirectA) a += MR;
    b += NR;
  }
  vf bc[NVEC];
#pragma GCC unroll 4
  for (int v = 0; v < NVEC; ++v)
    bc[v] = biasCol ? (v + 1 < NVEC ? vload(biasCol + v * VL) : vloadN(biasCol + v * VL, lastLanes)) : vzero();
  const vf zero = vzero();
  const bool fullLast = lastLanes == VL;
#pragma GCC unroll 16
  for (int i = 0; i < ROWS; ++i) {
    float* row = c + i * ldc;
    const vf br = biasRow ? vset1(biasRow[i]) : zero;
#pragma GCC unroll 4
    for (int v = 0; v < NVEC; ++v) {
      const bool full = v + 1 < NVEC || fullLast;
      vf r = acc[i][v];
      if (loadC) r = vadd(r, full ? vload(row + v * VL) : vloadN(row + v * VL, lastLanes));
      if (biasRow) r = vadd(r, br);
      if (biasCol) r = vadd(r, bc[v]);
      if (relu) r = vmax(r, zero);
      if (full)
        vstore(row + v * VL, r);
      else
        vstoreN(row + v * VL, r, lastLanes);
    }
  }
}

using MicroKernelFn = void (*)(int, const float*, i64, const float*, float*, i64, int, bool, const float*,
                               const float*, bool);

template <int NVEC, bool kDirectA, bool kPrefetchA, int... R>
static constexpr std::array<MicroKernelFn, MR> kernelsByRows(std::integer_sequence<int, R...>) {
  return {{&microKernel<R + 1, NVEC, kDirectA, kPrefetchA>...}};
}

template <bool kDirectA, bool kPrefetchA, int... V>
static constexpr std::array<std::array<MicroKernelFn, MR>, NV> kernelsBySize(std::integer_sequence<int, V...>) {
  return {{kernelsByRows<V + 1, kDirectA, kPrefetchA>(std::make_integer_sequence<int, MR>{})...}};
}

/** The micro-kernel for a rows x (nvec vectors) tile, A packed or read in place (and then
 *  prefetched ahead when the K block is long: kPrefetchA). */
static inline MicroKernelFn pickKernel(int rows, int nvec, bool directA, int kc) {
  static constexpr auto packed = kernelsBySize<false, false>(std::make_integer_sequence<int, NV>{});
  static constexpr auto direct = kernelsBySize<true, false>(std::make_integer_sequence<int, NV>{});
  static constexpr auto prefetching = kernelsBySize<true, true>(std::make_integer_sequence<int, NV>{});
  return (!directA ? packed : kc > 64 ? prefetching : direct)[nvec - 1][rows - 1];
}
#elif INKLING_NEON
// AArch64 Advanced SIMD: the same 6x16 tile as AVX2, as 6 rows x 4 q-registers = 24 accumulators
// + 4 B vectors + 2 A vectors = 30 of the 32 vector registers. The six A values of a k step are
// two loads (a[0..3], a[4..5]) and each FMA takes its A operand from a lane (vfmaq_laneq_f32, the
// by-element form of FMLA), so no broadcast instructions are needed; A read in place (six row
// streams) uses FMLA with a scalar (vfmaq_n_f32). Same k order per element as the other paths.
template <bool kDirectA>
static inline void microKernel(int kc, const float* __restrict a, i64 lda, const float* __restrict b, float* c,
                               i64 ldc, bool loadC, const float* biasRow, const float* biasCol, bool relu) {
  float32x4_t acc[MR][4];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = vdupq_n_f32(0.f);
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
    if constexpr (kDirectA) {
      // Six row streams: scalar loads, FMLA with a scalar operand (vfmaq_n_f32).
      for (int i = 0; i < MR; ++i) {
        const float ai = a[i * lda + k];
        acc[i][0] = vfmaq_n_f32(acc[i][0], b0, ai);
        acc[i][1] = vfmaq_n_f32(acc[i][1], b1, ai);
        acc[i][2] = vfmaq_n_f32(acc[i][2], b2, ai);
        acc[i][3] = vfmaq_n_f32(acc[i][3], b3, ai);
      }
    } else {
      const float32x4_t a03 = vld1q_f32(a);
      const float32x4_t a45 = vcombine_f32(vld1_f32(a + 4), vdup_n_f32(0.f));
#define INKLING_NEON_ROW(I, AV, LANE)                     \
      acc[I][0] = vfmaq_laneq_f32(acc[I][0], b0, AV, LANE); \
      acc[I][1] = vfmaq_laneq_f32(acc[I][1], b1, AV, LANE); \
      acc[I][2] = vfmaq_laneq_f32(acc[I][2], b2, AV, LANE); \
      acc[I][3] = vfmaq_laneq_f32(acc[I][3], b3, AV, LANE);
      INKLING_NEON_ROW(0, a03, 0)
      INKLING_NEON_ROW(1, a03, 1)
      INKLING_NEON_ROW(2, a03, 2)
      INKLING_NEON_ROW(3, a03, 3)
      INKLING_NEON_ROW(4, a45, 0)
      INKLING_NEON_ROW(5, a45, 1)
#undef INKLING_NEON_ROW
      a += MR;
    }
    b += NR;
  }
  const float32x4_t zero = vdupq_n_f32(0.f);
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    for (int j = 0; j < 4; ++j) {
      float32x4_t r = acc[i][j];
      if (loadC) r = vaddq_f32(r, vld1q_f32(row + 4 * j));
      if (biasRow) r = vaddq_f32(r, vdupq_n_f32(biasRow[i]));
      if (biasCol) r = vaddq_f32(r, vld1q_f32(biasCol + 4 * j));
      if (relu) r = vmaxq_f32(r, zero);
      vst1q_f32(row + 4 * j, r);
    }
  }
}
#else
// Portable: the same tile in plain C++; the compiler vectorizes the j loops (SSE2, NEON).
template <bool kDirectA>
static inline void microKernel(int kc, const float* __restrict a, i64 lda, const float* __restrict b, float* c,
                               i64 ldc, bool loadC, const float* biasRow, const float* biasCol, bool relu) {
  float acc[MR][NR] = {};
  for (int k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i) {
      const float ai = kDirectA ? a[i * lda + k] : a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
    if (!kDirectA) a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    for (int j = 0; j < NR; ++j) {
      float r = acc[i][j];
      if (loadC) r += row[j];
      if (biasRow) r += biasRow[i];
      if (biasCol) r += biasCol[j];
      if (relu) r = r > 0.f ? r : 0.f;
      row[j] = r;
    }
  }
}
#endif

/** Packs rows [0, mc) x cols [0, kc) of A into MR-tall panels: dst[panel][k][i], zero-padded. */
static void packA(View a, int mc, int kc, float* __restrict dst) {
  for (int i0 = 0; i0 < mc; i0 += MR) {
    const int mr = std::min(MR, mc - i0);
    if (a.rs == 1 && mr == MR) {  // A stored column-major here: MR contiguous floats per k
      for (int k = 0; k < kc; ++k) {
        const float* src = a.p + i0 + k * a.cs;
        for (int i = 0; i < MR; ++i) dst[k * MR + i] = src[i];
      }
    } else {
      for (int i = 0; i < MR; ++i) {
        if (i < mr) {
          const float* src = a.p + (i0 + i) * a.rs;
          if (a.cs == 1)
            for (int k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
          else
            for (int k = 0; k < kc; ++k) dst[k * MR + i] = src[k * a.cs];
        } else {
          for (int k = 0; k < kc; ++k) dst[k * MR + i] = 0.f;
        }
      }
    }
    dst += MR * kc;
  }
}

#if INKLING_AVX2
/** dst[k·ld + j] = src[j·cs + k] for an 8x8 block: eight columns of B (contiguous in k) loaded,
 *  transposed in registers, stored as eight rows of the panel. */
static inline void transpose8x8(const float* src, i64 cs, float* dst, int ld) {
  __m256 r[8], t[8];
  for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + j * cs);
  for (int j = 0; j < 8; j += 2) {
    t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
    t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
  }
  for (int j = 0; j < 8; j += 4) {
    r[j] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 1] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[j + 2] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 3] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(dst + k * ld, _mm256_permute2f128_ps(r[k], r[k + 4], 0x20));
    _mm256_storeu_ps(dst + (k + 4) * ld, _mm256_permute2f128_ps(r[k], r[k + 4], 0x31));
  }
}

/** transpose8x8 along a run of `count` ≥ 8 (rows of src, columns of dst): blocks at 0, 8, … with
 *  src and dst advanced by srcStep and dstStep per element of the run; the last block starts at
 *  count − 8, so it may rewrite a few elements with the same values but never passes the run. */
static inline void transposeRun(const float* src, i64 srcStep, i64 cs, float* dst, i64 dstStep, int ld, int count) {
  for (int i = 0;; i += 8) {
    const int at = std::min(i, count - 8);
    transpose8x8(src + at * srcStep, cs, dst + at * dstStep, ld);
    if (at == count - 8) return;
  }
}
#endif

/** Packs rows [0, kc) x cols [j0, j1) of B into NR-wide panels: dst[panel][k][j], zero-padded.
 *  dst points at the panel of column j0 (panels are KC·NR apart, KC = kc). */
static void packB(View b, int kc, int j0, int j1, float* __restrict dst) {
  for (int jb = j0; jb < j1; jb += NR) {
    const int nr = std::min(NR, j1 - jb);
#if INKLING_AVX2
    // B stored transposed (columns contiguous: a weight gradient's dyᵀ, Winograd's Vᵀ): 8x8
    // register transposes instead of a scalar store per element, 16 floats apart.
    if (b.rs == 1 && b.cs != 1 && nr == NR && kc >= 8) {
      const int k8 = kc & ~7;
      for (int j = 0; j < NR; j += 8)
        for (int k = 0; k < k8; k += 8) transpose8x8(b.p + (jb + j) * b.cs + k, b.cs, dst + k * NR + j, NR);
      for (int k = k8; k < kc; ++k)
        for (int j = 0; j < NR; ++j) dst[k * NR + j] = b.p[(jb + j) * b.cs + k];
      dst += NR * kc;
      continue;
    }
#endif
    if (b.cs == 1 && nr == NR) {
      for (int k = 0; k < kc; ++k) {
        const float* src = b.p + k * b.rs + jb;
        for (int j = 0; j < NR; ++j) dst[k * NR + j] = src[j];
      }
    } else {
      for (int j = 0; j < NR; ++j) {
        if (j < nr) {
          const float* src = b.p + (jb + j) * b.cs;
          if (b.rs == 1)
            for (int k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
          else
            for (int k = 0; k < kc; ++k) dst[k * NR + j] = src[k * b.rs];
        } else {
          for (int k = 0; k < kc; ++k) dst[k * NR + j] = 0.f;
        }
      }
    }
    dst += NR * kc;
  }
}

/** C block [mc x nc] from A and packed B; applies the epilogue when `last`. A is packed
 *  (`directA` null: pa holds MR-tall panels) or read in place (`directA` = row-major A at this
 *  block, leading dimension lda). */
#if INKLING_VEC
static void macroKernel(int mc, int nc, int kc, const float* pa, const float* directA, i64 lda, const float* pb,
                        float* c, i64 ldc, bool loadC, const Epilogue& ep, bool last) {
  for (int j0 = 0; j0 < nc; j0 += NR) {
    const int nr = std::min(NR, nc - j0);
    const int nvec = (nr + VL - 1) / VL, lastLanes = nr - (nvec - 1) * VL;
    const float* bPanel = pb + (j0 / NR) * NR * kc;
    const float* biasCol = last && ep.biasCol ? ep.biasCol + j0 : nullptr;
    const bool relu = last && ep.relu;
    for (int i0 = 0; i0 < mc; i0 += MR) {
      const int mr = std::min(MR, mc - i0);
      const float* aPanel = directA ? directA + i0 * lda : pa + (i0 / MR) * MR * kc;
      const float* biasRow = last && ep.biasRow ? ep.biasRow + i0 : nullptr;
      pickKernel(mr, nvec, directA != nullptr, kc)(kc, aPanel, lda, bPanel, c + i0 * ldc + j0, ldc, lastLanes, loadC,
                                              biasRow, biasCol, relu);
    }
  }
}
#else
// Portable: edge tiles run the full kernel on a padded copy (partial MR panels of a direct A are
// packed into pa first).
static void macroKernel(int mc, int nc, int kc, const float* pa, const float* directA, i64 lda, const float* pb,
                        float* c, i64 ldc, bool loadC, const Epilogue& ep, bool last) {
  alignas(64) float tile[MR * NR];
  alignas(64) float padRow[MR];
  alignas(64) float padCol[NR];
  for (int j0 = 0; j0 < nc; j0 += NR) {
    const int nr = std::min(NR, nc - j0);
    const float* bPanel = pb + (j0 / NR) * NR * kc;
    for (int i0 = 0; i0 < mc; i0 += MR) {
      const int mr = std::min(MR, mc - i0);
      const bool direct = directA && mr == MR;
      const float* aPanel = directA ? (direct ? directA + i0 * lda : pa) : pa + (i0 / MR) * MR * kc;
      if (directA && !direct && j0 == 0) packA(View{directA + i0 * lda, lda, 1}, mr, kc, const_cast<float*>(pa));
      const float* biasRow = last && ep.biasRow ? ep.biasRow + i0 : nullptr;
      const float* biasCol = last && ep.biasCol ? ep.biasCol + j0 : nullptr;
      const bool relu = last && ep.relu;
      float* cTile = c + i0 * ldc + j0;
      if (mr == MR && nr == NR) {
        if (direct)
          microKernel<true>(kc, aPanel, lda, bPanel, cTile, ldc, loadC, biasRow, biasCol, relu);
        else
          microKernel<false>(kc, aPanel, 0, bPanel, cTile, ldc, loadC, biasRow, biasCol, relu);
        continue;
      }
      // Edge tile: run the full kernel on a padded copy.
      if (loadC)
        for (int i = 0; i < mr; ++i)
          for (int j = 0; j < nr; ++j) tile[i * NR + j] = cTile[i * ldc + j];
      if (biasRow) {
        for (int i = 0; i < MR; ++i) padRow[i] = i < mr ? biasRow[i] : 0.f;
        biasRow = padRow;
      }
      if (biasCol) {
        for (int j = 0; j < NR; ++j) padCol[j] = j < nr ? biasCol[j] : 0.f;
        biasCol = padCol;
      }
      if (direct)
        microKernel<true>(kc, aPanel, lda, bPanel, tile, NR, loadC, biasRow, biasCol, relu);
      else
        microKernel<false>(kc, aPanel, 0, bPanel, tile, NR, loadC, biasRow, biasCol, relu);
      for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) cTile[i * ldc + j] = tile[i * NR + j];
    }
  }
}
#endif

static inline int kBlock(int k) {
  const int blocks = (k + KC_MAX - 1) / KC_MAX;
  return blocks <= 1 ? k : (k + blocks - 1) / blocks;
}

/** Without a K there is no product: C = (accumulate ? C : 0) + bias, then relu. */
static void gemmNoK(int m, int n, float* c, i64 ldc, bool accumulate, const Epilogue& ep) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float r = accumulate ? c[i * ldc + j] : 0.f;
      if (ep.biasRow) r += ep.biasRow[i];
      if (ep.biasCol) r += ep.biasCol[j];
      if (ep.relu && r < 0.f) r = 0.f;
      c[i * ldc + j] = r;
    }
}

/** Single-threaded GEMM with this thread's scratch (used inside parallel conv tasks). */
static void gemmSingle(int m, int n, int k, View a, View b, float* c, i64 ldc, bool accumulate, const Epilogue& ep,
                       ThreadScratch& scratch) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return gemmNoK(m, n, c, ldc, accumulate, ep);
  const int kcMax = kBlock(k);
  const int ncMax = std::min(n, NC);
  float* pb = scratch.packB.floats(size_t(kcMax) * ((ncMax + NR - 1) / NR) * NR);
  float* pa = scratch.packA.floats(size_t(kcMax) * ((std::min(m, MC) + MR - 1) / MR) * MR);
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += kcMax) {
      const int kc = std::min(kcMax, k - pc);
      const bool last = pc + kc >= k;
      const bool loadC = pc > 0 || accumulate;
      packB(View{b.p + pc * b.rs, b.rs, b.cs}, kc, jc, jc + nc, pb);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = std::min(MC, m - ic);
        const float* aBlock = a.p + ic * a.rs + pc * a.cs;
        const bool direct = a.cs == 1;
        if (!direct) packA(View{aBlock, a.rs, a.cs}, mc, kc, pa);
        Epilogue blockEp{ep.biasRow ? ep.biasRow + ic : nullptr, ep.biasCol ? ep.biasCol + jc : nullptr, ep.relu};
        macroKernel(mc, nc, kc, pa, direct ? aBlock : nullptr, a.rs, pb, c + ic * ldc + jc, ldc, loadC, blockEp, last);
      }
    }
  }
}

/** Multi-threaded GEMM: B blocks packed once into shared scratch (in parallel), then tasks over
 *  (MC row block) x (a slice of NR panels) so that small M still keeps every thread busy. */
static void gemmParallel(Context& ctx, int m, int n, int k, View a, View b, float* c, i64 ldc, bool accumulate,
                         const Epilogue& ep) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return gemmNoK(m, n, c, ldc, accumulate, ep);
  const int threads = ctx.pool.size();
  const double flops = 2.0 * m * n * k;
  if (threads == 1 || flops < 2e5) return gemmSingle(m, n, k, a, b, c, ldc, accumulate, ep, ctx.perThread[0]);
  const int mBlocks = (m + MC - 1) / MC;
  const int allPanels = (n + NR - 1) / NR;
  if (mBlocks <= 2 && allPanels >= 2 * threads) {
    // Few row blocks (the linear layers at training batches): each task owns a slice of B's
    // columns for the whole K and runs it through gemmSingle, packing its own panels. No packed
    // panel is shared, so nothing waits: one dispatch instead of two per (K block, NC block), and
    // each panel is used while it is still in its packer's cache. Every output element sees the
    // same K blocks, tiles and order as below: the same bits for any thread count.
    const int tasks = 2 * threads;
    ctx.pool.run(tasks, [&](int task, int thread) {
      const int j0 = allPanels * task / tasks * NR, j1 = std::min(n, allPanels * (task + 1) / tasks * NR);
      if (j0 >= j1) return;
      gemmSingle(m, j1 - j0, k, a, View{b.p + i64(j0) * b.cs, b.rs, b.cs}, c + j0, ldc, accumulate,
                 Epilogue{ep.biasRow, ep.biasCol ? ep.biasCol + j0 : nullptr, ep.relu}, ctx.perThread[thread]);
    });
    return;
  }
  const int kcMax = kBlock(k);
  const int ncMax = std::min(n, NC);
  const int panelsMax = (ncMax + NR - 1) / NR;
  float* pb = ctx.sharedPackB.floats(size_t(kcMax) * panelsMax * NR);
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    const int panels = (nc + NR - 1) / NR;
    int nSlices = std::min(panels, std::max(1, (2 * threads + mBlocks - 1) / mBlocks));
    for (int pc = 0; pc < k; pc += kcMax) {
      const int kc = std::min(kcMax, k - pc);
      const bool last = pc + kc >= k;
      const bool loadC = pc > 0 || accumulate;
      const int packTasks = std::min(panels, 4 * threads);
      ctx.pool.run(packTasks, [&](int task, int) {
        const int p0 = panels * task / packTasks, p1 = panels * (task + 1) / packTasks;
        packB(View{b.p + pc * b.rs, b.rs, b.cs}, kc, jc + p0 * NR, std::min(jc + p1 * NR, jc + nc), pb + size_t(p0) * NR * kc);
      });
      ctx.pool.run(mBlocks * nSlices, [&](int task, int thread) {
        const int ic = (task / nSlices) * MC;
        const int slice = task % nSlices;
        const int p0 = panels * slice / nSlices, p1 = panels * (slice + 1) / nSlices;
        if (p0 == p1) return;
        const int mc = std::min(MC, m - ic);
        const int j0 = p0 * NR, j1 = std::min(p1 * NR, nc);
        float* pa = ctx.perThread[thread].packA.floats(size_t(kc) * ((MC + MR - 1) / MR) * MR);
        const float* aBlock = a.p + ic * a.rs + pc * a.cs;
        const bool direct = a.cs == 1;
        if (!direct) packA(View{aBlock, a.rs, a.cs}, mc, kc, pa);
        Epilogue blockEp{ep.biasRow ? ep.biasRow + ic : nullptr, ep.biasCol ? ep.biasCol + jc + j0 : nullptr, ep.relu};
        macroKernel(mc, j1 - j0, kc, pa, direct ? aBlock : nullptr, a.rs, pb + size_t(p0) * NR * kc,
                    c + ic * ldc + jc + j0, ldc, loadC, blockEp, last);
      });
    }
  }
}

/** Σ a[i]·b[i] with 8 interleaved partial sums (so it vectorizes), combined as a fixed tree. */
static inline float dotFixedOrder(const float* __restrict a, const float* __restrict b, i64 n) {
  float part[8] = {};
  i64 i = 0;
  for (; i + 8 <= n; i += 8)
    for (int t = 0; t < 8; ++t) part[t] += a[i + t] * b[i + t];
  for (; i < n; ++i) part[i & 7] += a[i] * b[i];
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

#if INKLING_VEC
/** R dot products x·w[r] at once (linear layers at batch 1: W stored [n, k]). Two vector
 *  accumulators per row, so 2·R independent FMA chains instead of one (a single chain is bound by
 *  the FMA latency: 8 floats per 4-5 cycles), and x loaded once for the R rows. Each row's sum is
 *  the same arithmetic whichever rows share its pass: results do not depend on the split. */
template <int R>
static inline void dotRows(const float* __restrict x, const float* const* w, i64 k, float* out) {
  vf acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = vzero();
  i64 kk = 0;
  for (; kk + 2 * VL <= k; kk += 2 * VL) {
    const vf x0 = vload(x + kk), x1 = vload(x + kk + VL);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      acc[r][0] = vfmadd(vload(w[r] + kk), x0, acc[r][0]);
      acc[r][1] = vfmadd(vload(w[r] + kk + VL), x1, acc[r][1]);
    }
  }
  for (; kk < k; kk += VL) {
    const int len = int(std::min<i64>(VL, k - kk));
    const vf x0 = vloadN(x + kk, len);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r][0] = vfmadd(vloadN(w[r] + kk, len), x0, acc[r][0]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) out[r] = vsum(vadd(acc[r][0], acc[r][1]));
}
#endif

/** A few rows (batch-1 inference, small batches): no packing, dot products or row updates
 *  straight from memory, split over columns. Same k order per element as any thread count. */
static void gemmFewRows(Context& ctx, int m, int n, int k, View a, View b, float* c, i64 ldc, bool accumulate,
                        const Epilogue& ep) {
  const int threads = ctx.pool.size();
  const int tasks = (double(n) * k < 65536) ? 1 : std::min(n, 4 * threads);
  ctx.pool.run(tasks, [&](int task, int) {
    const int j0 = int(i64(n) * task / tasks), j1 = int(i64(n) * (task + 1) / tasks);
    for (int i = 0; i < m; ++i) {
      float* crow = c + i * ldc;
      if (b.rs == 1) {
        // B(k, j) contiguous along k: one dot product per output (linear layers, W stored [n, k]).
        int j = j0;
#if INKLING_VEC
        if (a.cs == 1) {
          const float* x = a.p + i * a.rs;
          float s[4];
          for (; j + 4 <= j1; j += 4) {
            const float* w[4] = {b.p + j * b.cs, b.p + (j + 1) * b.cs, b.p + (j + 2) * b.cs, b.p + (j + 3) * b.cs};
            dotRows<4>(x, w, k, s);
            for (int r = 0; r < 4; ++r) crow[j + r] = accumulate ? crow[j + r] + s[r] : s[r];
          }
          for (; j < j1; ++j) {
            const float* w[1] = {b.p + j * b.cs};
            dotRows<1>(x, w, k, s);
            crow[j] = accumulate ? crow[j] + s[0] : s[0];
          }
        }
#endif
        for (; j < j1; ++j) {
          const float* bcol = b.p + j * b.cs;
          float s = 0.f;
          if (a.cs == 1) {
            s = dotFixedOrder(a.p + i * a.rs, bcol, k);
          } else {
            for (int kk = 0; kk < k; ++kk) s += a.at(i, kk) * bcol[kk];
          }
          crow[j] = accumulate ? crow[j] + s : s;
        }
      } else {
        // Row updates: crow[j0:j1] (+)= Σ_k A(i,k) · B(k, j0:j1).
        float* acc = crow;
        if (!accumulate)
          for (int j = j0; j < j1; ++j) acc[j] = 0.f;
        for (int kk = 0; kk < k; ++kk) {
          const float aik = a.at(i, kk);
          const float* brow = b.p + kk * b.rs;
          if (b.cs == 1)
            for (int j = j0; j < j1; ++j) acc[j] += aik * brow[j];
          else
            for (int j = j0; j < j1; ++j) acc[j] += aik * brow[j * b.cs];
        }
      }
      for (int j = j0; j < j1; ++j) {
        float r = crow[j];
        if (ep.biasRow) r += ep.biasRow[i];
        if (ep.biasCol) r += ep.biasCol[j];
        if (ep.relu && r < 0.f) r = 0.f;
        crow[j] = r;
      }
    }
  });
}

static void matmul(Context& ctx, const float* a, const float* b, const float* bias, float* c, int m, int n, int k,
                   bool transA, bool transB, bool accumulate, bool relu) {
  View av = transA ? View{a, 1, m} : View{a, k, 1};
  View bv = transB ? View{b, 1, k} : View{b, n, 1};
  if (accumulate && relu) {
    // out += relu(A·B + bias): the activation sees the product alone, so compute it aside.
    float* tmp = ctx.temp.floats(size_t(m) * n);
    matmul(ctx, a, b, bias, tmp, m, n, k, transA, transB, false, true);
    for (i64 i = 0; i < i64(m) * n; ++i) c[i] += tmp[i];
    return;
  }
  Epilogue ep{nullptr, bias, relu};
  if (m <= 4 && k > 0)
    gemmFewRows(ctx, m, n, k, av, bv, c, n, accumulate, ep);
  else
    gemmParallel(ctx, m, n, k, av, bv, c, n, accumulate, ep);
}

}  // namespace INKLING_NS
