// Deterministic reductions: channelSum (bias gradients, full sums), argmax, countEqual.
//
// channelSum, x viewed [outer, channels, inner], out[c] (+)= Σ_{o,i} x[o,c,i]:
//   pass 1: grid (channels, chunks); block (c, chunk) sums a fixed contiguous slice of channel c's
//           outer·inner values (thread-strided, then the fixed shuffle tree of blockReduceSum)
//   pass 2: one thread per channel adds its chunk partials in chunk order.
//   With one chunk, pass 1 writes out directly. The partition depends only on the shape and the
//   SM count, so a given GPU always returns the same bits: no float atomics.
//   Napkin math: conv2's db at batch 512 reads 512·64·196·4 B = 25.7 MB, ~9 µs at 3 TB/s.
// argmax: one warp per row, first index of the maximum (strict >, lowest index wins ties).
// countEqual: one block counts a[i] == b[i] in integers (exact), thread 0 adds to out[0].
// Version 1 of each (the only one). Reference: src/nn/backends/ref/elementwise.ts; CPU loops in
// dev/kernels_check.cu (which also checks bit-identical reruns):
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
#include "kernels.h"

namespace inkling {
namespace {

__global__ void channelSumPartialKernel(const float* __restrict__ x, float* __restrict__ dst, int outer, int channels,
                                        int inner, int chunks, bool accumulateDirect) {
  const int c = blockIdx.x, chunk = blockIdx.y;
  const long long per = (long long)outer * inner;
  const long long chunkLen = (per + chunks - 1) / chunks;
  const long long begin = chunk * chunkLen;
  const long long end = min(per, begin + chunkLen);
  float s = 0.f;
  for (long long j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const long long o = j / inner, i = j - o * inner;
    s += x[(o * channels + c) * inner + i];
  }
  s = blockReduceSum(s);
  if (threadIdx.x == 0) {
    if (chunks == 1) dst[c] = accumulateDirect ? dst[c] + s : s;
    else dst[(long long)c * chunks + chunk] = s;
  }
}

__global__ void channelSumFinalKernel(const float* __restrict__ partial, float* __restrict__ out, int channels, int chunks,
                                      bool accumulate) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  float s = 0.f;
  for (int k = 0; k < chunks; k++) s += partial[(long long)c * chunks + k];
  out[c] = accumulate ? out[c] + s : s;
}

__global__ void argmaxKernel(const float* __restrict__ x, int32_t* __restrict__ out, int rows, int cols) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const float* r = x + (long long)row * cols;
  float best = -INFINITY;
  int bestIndex = -1;
  for (int j = lane; j < cols; j += 32) {
    float v = r[j];
    if (bestIndex < 0 || v > best) { best = v; bestIndex = j; }
  }
  // Merge lanes: larger value wins, the lower index on ties (and a lane with nothing loses).
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    float ov = __shfl_down_sync(0xffffffffu, best, o);
    int oi = __shfl_down_sync(0xffffffffu, bestIndex, o);
    if (oi >= 0 && (bestIndex < 0 || ov > best || (ov == best && oi < bestIndex))) { best = ov; bestIndex = oi; }
  }
  if (lane == 0) out[row] = bestIndex < 0 ? 0 : bestIndex;
}

__global__ void countEqualKernel(const int32_t* __restrict__ a, const int32_t* __restrict__ b, float* __restrict__ out,
                                 long long n, bool accumulate) {
  __shared__ unsigned long long total;
  if (threadIdx.x == 0) total = 0;
  __syncthreads();
  unsigned long long c = 0;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) c += a[i] == b[i];
  atomicAdd(&total, c);  // integer adds commute exactly: deterministic
  __syncthreads();
  if (threadIdx.x == 0) out[0] = accumulate ? out[0] + (float)total : (float)total;
}

}  // namespace

void launchChannelSum(const LaunchEnv& env, const float* x, float* out, int outer, int channels, int inner, bool accumulate) {
  if (channels <= 0) return;
  const int chunks = channelChunks(channels, (long long)outer * inner, env.numSMs);
  float* partial = chunks > 1 ? static_cast<float*>(env.getScratch(sizeof(float) * (size_t)channels * chunks)) : out;
  INKLING_LAUNCH(dim3(channels, chunks), 256, 0, env.stream, channelSumPartialKernel)(x, partial, outer, channels, inner, chunks, accumulate);
  CUDA_CHECK_LAUNCH();
  if (chunks > 1) {
    INKLING_LAUNCH(ceilDiv(channels, 128), 128, 0, env.stream, channelSumFinalKernel)(partial, out, channels, chunks, accumulate);
    CUDA_CHECK_LAUNCH();
  }
}

void launchArgmax(const LaunchEnv& env, const float* x, int32_t* out, int rows, int cols) {
  if (rows <= 0) return;
  INKLING_LAUNCH(ceilDiv(rows, 8), 256, 0, env.stream, argmaxKernel)(x, out, rows, cols);
  CUDA_CHECK_LAUNCH();
}

void launchCountEqual(const LaunchEnv& env, const int32_t* a, const int32_t* b, float* out, long long n, bool accumulate) {
  INKLING_LAUNCH(1, 1024, 0, env.stream, countEqualKernel)(a, b, out, n, accumulate);
  CUDA_CHECK_LAUNCH();
}

}  // namespace inkling
