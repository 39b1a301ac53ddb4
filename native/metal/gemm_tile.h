// The one tiled GEMM behind matmul and all three convolution passes (implicit GEMM), on the
// SIMD-group matrix units of Apple GPUs (MSL simdgroup_float8x8: 8×8 fp32 tiles loaded from
// threadgroup memory, multiplied-accumulated and stored by the 32 lanes of a SIMD group together).
//
//   C[m, n] = Σ_k A(m, k) · B(k, n),  m < M, n < N, k in this threadgroup's K range
//
// A and B are *loaders* (structs whose operator() returns one element), so the same tile loop
// reads a dense matrix (either transpose), an im2col view of the input or a strided gather of dy
// without materialising anything; the result goes through the epilogue (bias[n], ReLU,
// accumulate) to an output layout (row-major, column-major, or NCHW rows).
//
// Threadgroup tile BM×BN×BK = 32×32×16, 128 threads = 4 SIMD groups in a 2×2 grid; SIMD group
// (sr, sc) owns the 16×16 sub-tile at rows 16·sr, columns 16·sc: 2×2 accumulators of 8×8.
//   per k-tile:  all 128 threads load A (32×16) and B (16×32) into threadgroup memory, 4 elements
//                each, zero outside the matrix → barrier → each SIMD group runs 2 k-steps of 8:
//                2 A + 2 B simdgroup_loads, 4 simdgroup_multiply_accumulates → barrier
//   epilogue:    the accumulators are stored to threadgroup memory (Cs), then every thread writes
//                8 elements through the epilogue, with bounds checks
// Split-K (deterministic, as in native/cuda/gemm_tile.cuh): when M×N has few tiles and K is long
// (weight gradients, fc layers), grid.z splits K; each slice writes raw partial sums to
// partial[z][M][N] and gemm_split_reduce adds them in z order, then applies the epilogue.
// Napkin math, conv2 forward at batch 128 (M = 25088, N = 64, K = 288): 0.92 GFLOP, 1568
// threadgroups. Not tuned (no double buffering, no register prefetch): unmeasured, see README.
#pragma once
#include "common.h"

namespace ink {

constexpr constant int BM = 32, BN = 32, BK = 16;
constexpr constant uint kGemmThreads = 128;

// ---- dense loaders (matmul): A stored [M,K] (or [K,M] transposed), B stored [K,N] (or [N,K]) ----
struct DenseA {
  device const float* p;
  int M, K;
  bool trans;
  float operator()(int m, int k) const { return trans ? p[long(k) * M + m] : p[long(m) * K + k]; }
  bool kMajor() const { return !trans; }  // neighbouring k are neighbouring addresses
};
struct DenseB {
  device const float* p;
  int K, N;
  bool trans;
  float operator()(int k, int n) const { return trans ? p[long(n) * K + k] : p[long(k) * N + n]; }
  bool kMajor() const { return trans; }
};

inline ulong outIndex(constant GemmArgs& g, int m, int n) {
  if (g.layout == kRowMajor) return ulong(m) * g.ldc + n;
  if (g.layout == kColMajor) return ulong(n) * g.ldc + m;
  const uint image = uint(m) / g.hw;
  return (ulong(image) * g.channels + n) * g.hw + (uint(m) - image * g.hw);
}

inline void storeResult(constant GemmArgs& g, device float* out, device const float* bias, int m, int n, float v) {
  if (g.hasBias) v += bias[n];
  if (g.relu) v = v > 0.0f ? v : 0.0f;
  const ulong i = outIndex(g, m, n);
  if (g.accumulate) v += out[i];
  out[i] = v;
}

// As: BM×BK row-major (m, k); Bs: BK×BN row-major (k, n); Cs: BM×BN row-major.
template <typename ALoad, typename BLoad>
inline void gemmTile(ALoad A, BLoad B, constant GemmArgs& g, device float* out, device const float* bias,
                     device float* partial, uint3 group, uint tid, uint sg, threadgroup float* As,
                     threadgroup float* Bs, threadgroup float* Cs) {
  const int m0 = int(group.x) * BM, n0 = int(group.y) * BN;
  const int kBegin = int(group.z) * g.kPerSplit;
  const int kEnd = min(g.K, kBegin + g.kPerSplit);
  const int sr = int(sg) / 2, sc = int(sg) % 2;

  simdgroup_float8x8 acc[2][2];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) acc[i][j] = make_filled_simdgroup_matrix<float, 8, 8>(0.0f);

  for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
    // Global → threadgroup memory; the thread↔element map follows the loader's contiguous
    // dimension so that neighbouring threads read neighbouring addresses.
    for (int e = 0; e < 4; e++) {
      int m, k;
      if (A.kMajor()) { k = int(tid) % BK; m = int(tid) / BK + e * int(kGemmThreads / BK); }
      else { m = int(tid) % BM; k = int(tid) / BM + e * int(kGemmThreads / BM); }
      const int gm = m0 + m, gk = k0 + k;
      As[m * BK + k] = (gm < g.M && gk < kEnd) ? A(gm, gk) : 0.0f;
    }
    for (int e = 0; e < 4; e++) {
      int n, k;
      if (B.kMajor()) { k = int(tid) % BK; n = int(tid) / BK + e * int(kGemmThreads / BK); }
      else { n = int(tid) % BN; k = int(tid) / BN + e * int(kGemmThreads / BN); }
      const int gn = n0 + n, gk = k0 + k;
      Bs[k * BN + n] = (gn < g.N && gk < kEnd) ? B(gk, gn) : 0.0f;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    for (int ks = 0; ks < BK; ks += 8) {
      simdgroup_float8x8 a[2], b[2];
      for (int i = 0; i < 2; i++) simdgroup_load(a[i], As + (sr * 16 + i * 8) * BK + ks, BK);
      for (int j = 0; j < 2; j++) simdgroup_load(b[j], Bs + ks * BN + sc * 16 + j * 8, BN);
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) simdgroup_multiply_accumulate(acc[i][j], a[i], b[j], acc[i][j]);
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);  // the next k-tile overwrites As and Bs
  }

  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) simdgroup_store(acc[i][j], Cs + (sr * 16 + i * 8) * BN + sc * 16 + j * 8, BN);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (int e = 0; e < (BM * BN) / int(kGemmThreads); e++) {
    const int idx = int(tid) + e * int(kGemmThreads);
    const int r = idx / BN, c = idx % BN;
    const int m = m0 + r, n = n0 + c;
    if (m >= g.M || n >= g.N) continue;
    const float v = Cs[r * BN + c];
    if (g.splits > 1) partial[(ulong(group.z) * g.M + m) * g.N + n] = v;
    else storeResult(g, out, bias, m, n, v);
  }
}

}  // namespace ink

