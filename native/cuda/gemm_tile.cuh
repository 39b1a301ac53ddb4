// The one tiled GEMM kernel behind matmul and all three convolution passes (implicit GEMM).
//
//   C[m, n] = Σ_k A(m, k) · B(k, n),  m < M, n < N, k < K
//
// A and B are *loaders*: small structs whose operator() returns one element, so the same tile
// loop reads a dense matrix (matmul, either transpose), an im2col view of the input (conv forward,
// weight gradient) or a strided gather of dy (input gradient) without materialising anything.
// The result goes through an epilogue (bias[n], ReLU, accumulate) to an output *layout*
// (row-major, column-major, or NCHW where m = (image, pixel) and n = channel).
//
// Block tile 128×64×16 (BM×BN×BK), 256 threads, double-buffered shared memory fed by a register
// prefetch of the next k-tile, so global loads overlap the math of the current tile.
//   SIMT variant:  each thread owns an 8×4 register block (16×16 threads), fp32 FMA.
//   TF32 variant:  8 warps in a 4×2 grid, each a 32×32 warp tile of mma.sync.m16n8k8 (2×4 mmas
//                  per k-step of 8); operands are rounded to TF32 (cvt.rna) when stored to shared.
// Napkin math, conv2 forward at batch 128 (M = 25088, N = 64, K = 288): 0.92 GFLOP; A is read
// once per n-tile (N = 64 = one tile), B (73 KB) stays in L2; output 6.4 MB. At ~50 TFLOP/s fp32
// SIMT peak (H100 SXM, 67 TF) this is ~20 µs of math; the 3.5 MB input + 6.4 MB output at
// ~3 TB/s is ~3.5 µs: compute-bound, so the register blocking matters, not the loads.
//
// Split-K (deterministic): when M×N has fewer tiles than SMs (fc layers, weight gradients with
// K = batch·pixels), grid.z splits K into equal chunks; each writes raw partial sums to scratch
// [splits][M][N], and splitReduceKernel adds them in z order and applies the epilogue. The same
// inputs always give the same bits: no float atomics anywhere.
//
// Shared-memory layout: As[k][m] and Bs[k][n] (k-major) padded by 8 floats per row, so the TF32
// fragment reads (rows g..g+7, k = t4 and t4+4) hit 32 distinct banks and the SIMT float4 reads
// stay 16-byte aligned.
#pragma once
#include "common.cuh"
#include "fastdiv.h"

namespace inkling {
namespace gemm {

constexpr int BM = 128, BN = 64, BK = 16, THREADS = 256, PAD = 8;
constexpr int A_PER_THREAD = BM * BK / THREADS;  // 8
constexpr int B_PER_THREAD = BK * BN / THREADS;  // 4

// ---- output layouts ----
struct RowMajor {  // out[m·ldc + n]
  float* out;
  int ldc;
  __device__ __forceinline__ long long index(int m, int n) const { return (long long)m * ldc + n; }
};
struct ColMajor {  // out[n·ldc + m]
  float* out;
  int ldc;
  __device__ __forceinline__ long long index(int m, int n) const { return (long long)n * ldc + m; }
};
struct NchwRows {  // m = image·hw + pixel, n = channel: out[(image·channels + n)·hw + pixel]
  float* out;
  int channels;
  FastDiv hw;
  __device__ __forceinline__ long long index(int m, int n) const {
    int image = hw.div(m);
    return ((long long)image * channels + n) * hw.d + hw.mod(m, image);
  }
};

struct Epilogue {
  const float* bias;  // indexed by n, may be null
  bool relu;
  bool accumulate;
};

template <class Layout>
__device__ __forceinline__ void storeResult(const Layout& L, const Epilogue& e, int m, int n, float v) {
  if (e.bias) v += e.bias[n];
  if (e.relu) v = v > 0.f ? v : 0.f;
  long long i = L.index(m, n);
  if (e.accumulate) v += L.out[i];
  L.out[i] = v;
}

// ---- dense loaders (matmul) ----
template <bool Trans>  // A stored [M,K], or [K,M] when transposed
struct DenseA {
  const float* __restrict__ p;
  int M, K;
  static constexpr bool kContiguousK = !Trans;
  __device__ __forceinline__ float operator()(int m, int k) const {
    return Trans ? __ldg(p + (long long)k * M + m) : __ldg(p + (long long)m * K + k);
  }
};
template <bool Trans>  // B stored [K,N], or [N,K] when transposed
struct DenseB {
  const float* __restrict__ p;
  int K, N;
  static constexpr bool kContiguousK = Trans;
  __device__ __forceinline__ float operator()(int k, int n) const {
    return Trans ? __ldg(p + (long long)n * K + k) : __ldg(p + (long long)k * N + n);
  }
};

// Each inline PTX instruction has a C++ twin that the SIMT emulator (native/emu) compiles; nvcc's
// host pass, which sees these bodies with __CUDA_ARCH__ undefined, gets neither.

// cvt.rna.tf32.f32: keep 10 mantissa bits, round to nearest with ties AWAY from zero (not to even),
// low 13 bits zero. Twin: add half of the dropped range to the magnitude bits, then truncate (an
// overflow rounds to infinity, as the hardware does); NaN and infinity pass through.
__device__ __forceinline__ float roundToTf32(float x) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return __uint_as_float(r);
#elif !defined(__CUDACC__)
  uint32_t bits = __float_as_uint(x);
  if ((bits & 0x7f800000u) != 0x7f800000u) bits = (bits + 0x1000u) & 0xffffe000u;
  return __uint_as_float(bits);
#else
  return x;
#endif
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: D[16×8] = A[16×8]·B[8×8] + C, one warp.
// Fragments (PTX ISA, "Matrix Fragments for mma.m16n8k8", .tf32), g = lane >> 2, t = lane & 3:
//   A: a0 (g, t)  a1 (g+8, t)  a2 (g, t+4)  a3 (g+8, t+4)      B: b0 (t, g)  b1 (t+4, g)
//   C, D: c0 (g, 2t)  c1 (g, 2t+1)  c2 (g+8, 2t)  c3 (g+8, 2t+1)
// Twin: a warp collective (all 32 lanes, one call site, as .aligned requires) gathers every lane's
// fragments, rebuilds A and B, and each lane computes its four D elements. The hardware reads only
// the 19 TF32 bits of each operand (the low 13 mantissa bits are ignored); a product of two TF32
// values is exact in fp32, and the twin adds the eight products to C in k order in fp32 (the
// hardware's internal order and rounding of that sum are unspecified).
__device__ __forceinline__ void mmaTf32(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif !defined(__CUDACC__)
  struct Fragments {
    uint32_t a[4], b[2];
  };
  Fragments all[32];
  ::inkling::emu::cuda::warpExchangeAligned("mma.sync.m16n8k8.tf32", Fragments{{a[0], a[1], a[2], a[3]}, {b[0], b[1]}}, all,
                                            INKLING_EMU_SITE);
  auto tf32 = [](uint32_t bits) { return __uint_as_float(bits & 0xffffe000u); };
  float A[16][8], B[8][8];
  for (int lane = 0; lane < 32; lane++) {
    const int g = lane >> 2, t = lane & 3;
    A[g][t] = tf32(all[lane].a[0]);
    A[g + 8][t] = tf32(all[lane].a[1]);
    A[g][t + 4] = tf32(all[lane].a[2]);
    A[g + 8][t + 4] = tf32(all[lane].a[3]);
    B[t][g] = tf32(all[lane].b[0]);
    B[t + 4][g] = tf32(all[lane].b[1]);
  }
  const int lane = static_cast<int>(::inkling::emu::cuda::laneId()), g = lane >> 2, t = lane & 3;
  for (int r = 0; r < 4; r++) {
    const int row = g + (r >= 2 ? 8 : 0), col = 2 * t + (r & 1);
    float d = c[r];
    for (int k = 0; k < 8; k++) d += A[row][k] * B[k][col];
    c[r] = d;
  }
#else
  __trap();  // nvcc host pass: never runs (CMakeLists targets sm_80 and newer only)
#endif
}

template <class ALoad, class BLoad, class Layout, bool TF32>
__global__ void __launch_bounds__(THREADS)
    gemmTileKernel(ALoad A, BLoad B, Layout L, Epilogue e, int M, int N, int K, int kPerSplit, float* __restrict__ partial) {
  __shared__ __align__(16) float As[2][BK][BM + PAD];
  __shared__ __align__(16) float Bs[2][BK][BN + PAD];
  const int tid = threadIdx.x;
  const int m0 = blockIdx.x * BM;
  const int n0 = blockIdx.y * BN;
  const int kBegin = blockIdx.z * kPerSplit;
  const int kEnd = min(K, kBegin + kPerSplit);
  const int numTiles = kEnd > kBegin ? (kEnd - kBegin + BK - 1) / BK : 0;

  float ra[A_PER_THREAD], rb[B_PER_THREAD];
  // Global → registers. The thread↔element map follows the loader's contiguous dimension so that
  // neighbouring threads read neighbouring addresses.
  auto loadTile = [&](int k0) {
#pragma unroll
    for (int i = 0; i < A_PER_THREAD; i++) {
      int m, k;
      if (ALoad::kContiguousK) { k = tid % BK; m = tid / BK + i * (THREADS / BK); }
      else { m = tid % BM; k = tid / BM + i * (THREADS / BM); }
      int gm = m0 + m, gk = k0 + k;
      ra[i] = (gm < M && gk < kEnd) ? A(gm, gk) : 0.f;
    }
#pragma unroll
    for (int i = 0; i < B_PER_THREAD; i++) {
      int n, k;
      if (BLoad::kContiguousK) { k = tid % BK; n = tid / BK + i * (THREADS / BK); }
      else { n = tid % BN; k = tid / BN + i * (THREADS / BN); }
      int gn = n0 + n, gk = k0 + k;
      rb[i] = (gn < N && gk < kEnd) ? B(gk, gn) : 0.f;
    }
  };
  auto storeTile = [&](int buf) {
#pragma unroll
    for (int i = 0; i < A_PER_THREAD; i++) {
      int m, k;
      if (ALoad::kContiguousK) { k = tid % BK; m = tid / BK + i * (THREADS / BK); }
      else { m = tid % BM; k = tid / BM + i * (THREADS / BM); }
      As[buf][k][m] = TF32 ? roundToTf32(ra[i]) : ra[i];
    }
#pragma unroll
    for (int i = 0; i < B_PER_THREAD; i++) {
      int n, k;
      if (BLoad::kContiguousK) { k = tid % BK; n = tid / BK + i * (THREADS / BK); }
      else { n = tid % BN; k = tid / BN + i * (THREADS / BN); }
      Bs[buf][k][n] = TF32 ? roundToTf32(rb[i]) : rb[i];
    }
  };

  if (numTiles > 0) {
    loadTile(kBegin);
    storeTile(0);
  }
  __syncthreads();

  if constexpr (!TF32) {
    // ---- SIMT: thread (ty, tx) owns rows ty·8..+8, cols tx·4..+4 ----
    const int ty = tid / 16, tx = tid % 16;
    float acc[8][4] = {};
    for (int t = 0; t < numTiles; t++) {
      const int cur = t & 1;
      if (t + 1 < numTiles) loadTile(kBegin + (t + 1) * BK);
#pragma unroll
      for (int kk = 0; kk < BK; kk++) {
        float4 a0 = *reinterpret_cast<const float4*>(&As[cur][kk][ty * 8]);
        float4 a1 = *reinterpret_cast<const float4*>(&As[cur][kk][ty * 8 + 4]);
        float4 b = *reinterpret_cast<const float4*>(&Bs[cur][kk][tx * 4]);
        const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
        const float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
          for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
      if (t + 1 < numTiles) storeTile(cur ^ 1);
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
      for (int j = 0; j < 4; j++) {
        int m = m0 + ty * 8 + i, n = n0 + tx * 4 + j;
        if (m < M && n < N) {
          if (partial) partial[((long long)blockIdx.z * M + m) * N + n] = acc[i][j];
          else storeResult(L, e, m, n, acc[i][j]);
        }
      }
  } else {
    // ---- TF32 tensor cores: warp (wm, wn) owns rows wm·32..+32, cols wn·32..+32 ----
    const int warp = tid / 32, lane = tid % 32;
    const int wm = warp % 4, wn = warp / 4;
    const int g = lane >> 2, t4 = lane & 3;  // PTX "groupID" and "threadID_in_group"
    float acc[2][4][4] = {};
    for (int t = 0; t < numTiles; t++) {
      const int cur = t & 1;
      if (t + 1 < numTiles) loadTile(kBegin + (t + 1) * BK);
#pragma unroll
      for (int ks = 0; ks < BK; ks += 8) {
        uint32_t af[2][4], bf[4][2];
#pragma unroll
        for (int mi = 0; mi < 2; mi++) {
          int r = wm * 32 + mi * 16 + g;
          af[mi][0] = __float_as_uint(As[cur][ks + t4][r]);
          af[mi][1] = __float_as_uint(As[cur][ks + t4][r + 8]);
          af[mi][2] = __float_as_uint(As[cur][ks + t4 + 4][r]);
          af[mi][3] = __float_as_uint(As[cur][ks + t4 + 4][r + 8]);
        }
#pragma unroll
        for (int ni = 0; ni < 4; ni++) {
          int c = wn * 32 + ni * 8 + g;
          bf[ni][0] = __float_as_uint(Bs[cur][ks + t4][c]);
          bf[ni][1] = __float_as_uint(Bs[cur][ks + t4 + 4][c]);
        }
#pragma unroll
        for (int mi = 0; mi < 2; mi++)
#pragma unroll
          for (int ni = 0; ni < 4; ni++) mmaTf32(acc[mi][ni], af[mi], bf[ni]);
      }
      if (t + 1 < numTiles) storeTile(cur ^ 1);
      __syncthreads();
    }
    // C fragment: c0,c1 at row g, cols 2·t4 + {0,1}; c2,c3 at row g + 8.
#pragma unroll
    for (int mi = 0; mi < 2; mi++)
#pragma unroll
      for (int ni = 0; ni < 4; ni++)
#pragma unroll
        for (int r = 0; r < 4; r++) {
          int m = m0 + wm * 32 + mi * 16 + g + (r >= 2 ? 8 : 0);
          int n = n0 + wn * 32 + ni * 8 + t4 * 2 + (r & 1);
          if (m < M && n < N) {
            if (partial) partial[((long long)blockIdx.z * M + m) * N + n] = acc[mi][ni][r];
            else storeResult(L, e, m, n, acc[mi][ni][r]);
          }
        }
  }
}

// Adds the split-K partials in z order (deterministic) and applies the epilogue.
template <class Layout>
__global__ void splitReduceKernel(const float* __restrict__ partial, int splits, Layout L, Epilogue e, int M, int N) {
  const long long total = (long long)M * N;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
    float s = 0.f;
    for (int z = 0; z < splits; z++) s += partial[z * total + i];
    storeResult(L, e, (int)(i / N), (int)(i % N), s);
  }
}

// How many K-chunks: enough blocks to cover the SMs twice, each chunk at least 8 k-tiles, and
// the scratch (splits·M·N floats) under 64 MiB.
inline int chooseSplits(int M, int N, int K, int numSMs) {
  long long tiles = (long long)ceilDiv(M, BM) * ceilDiv(N, BN);
  if (tiles >= numSMs || K < 16 * BK) return 1;
  long long want = (2LL * numSMs + tiles - 1) / tiles;
  long long byK = K / (8 * BK);
  long long byMem = (64LL << 20) / (4LL * M * N);
  long long s = want;
  if (s > byK) s = byK;
  if (s > byMem) s = byMem;
  if (s > 128) s = 128;
  return s < 1 ? 1 : (int)s;
}

template <class ALoad, class BLoad, class Layout>
void runGemm(const LaunchEnv& env, bool tf32, ALoad A, BLoad B, Layout L, Epilogue e, int M, int N, int K) {
  if (M <= 0 || N <= 0) return;
  int splits = chooseSplits(M, N, K, env.numSMs);
  int kPer = K;
  if (splits > 1) {
    kPer = ceilDiv(ceilDiv(K, splits), BK) * BK;
    splits = ceilDiv(K, kPer);
  }
  float* partial = splits > 1 ? static_cast<float*>(env.getScratch(sizeof(float) * (size_t)splits * M * N)) : nullptr;
  dim3 grid(ceilDiv(M, BM), ceilDiv(N, BN), splits);
  if (tf32) INKLING_LAUNCH(grid, THREADS, 0, env.stream, gemmTileKernel<ALoad, BLoad, Layout, true>)(A, B, L, e, M, N, K, kPer, partial);
  else INKLING_LAUNCH(grid, THREADS, 0, env.stream, gemmTileKernel<ALoad, BLoad, Layout, false>)(A, B, L, e, M, N, K, kPer, partial);
  CUDA_CHECK_LAUNCH();
  if (partial) {
    INKLING_LAUNCH(elementwiseBlocks((long long)M * N, 256, env.numSMs), 256, 0, env.stream, splitReduceKernel<Layout>)(partial, splits, L, e, M, N);
    CUDA_CHECK_LAUNCH();
  }
}

}  // namespace gemm
}  // namespace inkling
