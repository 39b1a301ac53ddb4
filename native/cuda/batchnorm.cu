// Batch normalisation (2d: spatial = H·W; 1d: spatial = 1), x viewed [n, c, spatial], per channel
// over N' = n·spatial values (formulas in src/nn/backends/ref/batchnorm.ts, the reference):
//   train:     mean, biased var → invStd = 1/sqrt(var + eps); y = act(γ·(x − mean)·invStd + β)
//              running_mean/var updated with momentum (unbiased var); mean and invStd saved.
//   inference: the same with the running statistics (BN+ReLU fused, one pass).
//   backward:  dx = γ·invStd/N'·(N'·dy − Σdy − x̂·Σ(dy·x̂)); dγ (+)= Σdy·x̂; dβ (+)= Σdy.
// Kernels:
//   bnStatsPartial   grid (c, chunks): Welford (count, mean, M2) per thread, merged by a fixed
//                    tree (Chan et al.) — one read of x, no cancellation of Σx² − (Σx)²/N.
//   bnStatsFinal     one thread per channel merges its chunks in order, writes mean/invStd and
//                    the running statistics.
//   bnApply          elementwise normalise + γ/β + optional ReLU (the fused BN+ReLU epilogue).
//   bnGradPartial / bnGradFinal: Σdy and Σdy·x̂ the same two-pass way; bnInputGrad elementwise.
// Deterministic: fixed partition and merge order, no atomics.
// Napkin math, bn2 train at batch 512 (x = 25.7 MB): stats read x once, apply reads x and writes
// y: 77 MB ≈ 26 µs at 3 TB/s; backward reads x, dy twice and writes dx: ~130 MB ≈ 43 µs.
// Version 1 (the only one). CPU reference (float64) and batch-512 timings in dev/kernels_check.cu:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
#include "fastdiv.h"
#include "kernels.h"

namespace inkling {
namespace {

struct Welford {
  float n, mean, m2;
};

__device__ __forceinline__ Welford merge(Welford a, Welford b) {
  const float n = a.n + b.n;
  if (n == 0.f) return a;
  const float d = b.mean - a.mean;
  const float fb = b.n / n;
  return Welford{n, a.mean + d * fb, a.m2 + b.m2 + d * d * a.n * fb};
}

__device__ __forceinline__ Welford shflDown(Welford w, int o) {
  return Welford{__shfl_down_sync(0xffffffffu, w.n, o), __shfl_down_sync(0xffffffffu, w.mean, o),
                 __shfl_down_sync(0xffffffffu, w.m2, o)};
}

// blockDim.x == 256 (8 warps); result in thread 0.
__device__ Welford blockReduceWelford(Welford w) {
  __shared__ Welford warpPart[8];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) w = merge(w, shflDown(w, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warpPart[warp] = w;
  __syncthreads();
  if (warp == 0) {
    w = lane < 8 ? warpPart[lane] : Welford{0.f, 0.f, 0.f};
#pragma unroll
    for (int o = 4; o > 0; o >>= 1) w = merge(w, shflDown(w, o));
  }
  return w;
}

// Element j of channel c's N' values: o = j / spatial, s = j % spatial. Indices are int32 (the
// launchers refuse tensors of 2^31 elements or more) so the divisions are FastDiv multiply-shifts.
__device__ __forceinline__ long long bnIndex(int j, int c, int channels, FastDiv bySpatial) {
  const int o = bySpatial.div(j);
  return ((long long)o * channels + c) * bySpatial.d + bySpatial.mod(j, o);
}

// Channel of flat NCHW index i: (i / spatial) % channels.
__device__ __forceinline__ int bnChannel(int i, FastDiv bySpatial, FastDiv byChannels) {
  const int q = bySpatial.div(i);
  return byChannels.mod(q, byChannels.div(q));
}

__global__ void __launch_bounds__(256) bnStatsPartialKernel(const float* __restrict__ x, Welford* __restrict__ partial,
                                                            int channels, FastDiv bySpatial, int per, int chunks) {
  const int c = blockIdx.x, chunk = blockIdx.y;
  const int chunkLen = (per + chunks - 1) / chunks;
  const int begin = chunk * chunkLen, end = min(per, begin + chunkLen);
  Welford w{0.f, 0.f, 0.f};
  for (int j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const float v = x[bnIndex(j, c, channels, bySpatial)];
    w.n += 1.f;
    const float d = v - w.mean;
    w.mean += d / w.n;
    w.m2 += d * (v - w.mean);
  }
  w = blockReduceWelford(w);
  if (threadIdx.x == 0) partial[(long long)c * chunks + chunk] = w;
}

__global__ void bnStatsFinalKernel(const Welford* __restrict__ partial, int channels, int chunks, long long per, float eps,
                                   float momentum, float* __restrict__ runningMean, float* __restrict__ runningVar,
                                   float* __restrict__ saveMean, float* __restrict__ saveInvStd) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  Welford w = partial[(long long)c * chunks];
  for (int k = 1; k < chunks; k++) w = merge(w, partial[(long long)c * chunks + k]);
  const float var = w.m2 / (float)per;
  saveMean[c] = w.mean;
  saveInvStd[c] = 1.f / sqrtf(var + eps);
  runningMean[c] = (1.f - momentum) * runningMean[c] + momentum * w.mean;
  runningVar[c] = (1.f - momentum) * runningVar[c] + momentum * var * ((float)per / (float)(per - 1));
}

// y = act(γ·(x − mean)·invStd + β); `invStdIsVar` makes it read running_var and compute invStd.
__global__ void bnApplyKernel(const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                              const float* __restrict__ mean, const float* __restrict__ scaleSrc, bool invStdIsVar, float eps,
                              float* __restrict__ out, int total, FastDiv bySpatial, FastDiv byChannels, bool relu) {
  GRID_STRIDE_LOOP(i, total) {
    const int c = bnChannel((int)i, bySpatial, byChannels);
    const float invStd = invStdIsVar ? 1.f / sqrtf(scaleSrc[c] + eps) : scaleSrc[c];
    float v = gamma[c] * (x[i] - mean[c]) * invStd + beta[c];
    if (relu) v = v > 0.f ? v : 0.f;
    out[i] = v;
  }
}

__global__ void __launch_bounds__(256) bnGradPartialKernel(const float* __restrict__ x, const float* __restrict__ dy,
                                                           const float* __restrict__ mean, const float* __restrict__ invStd,
                                                           float2* __restrict__ partial, int channels, FastDiv bySpatial,
                                                           int per, int chunks) {
  const int c = blockIdx.x, chunk = blockIdx.y;
  const int chunkLen = (per + chunks - 1) / chunks;
  const int begin = chunk * chunkLen, end = min(per, begin + chunkLen);
  const float mu = mean[c], is = invStd[c];
  float sdy = 0.f, sdyx = 0.f;
  for (int j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const long long i = bnIndex(j, c, channels, bySpatial);
    const float g = dy[i];
    sdy += g;
    sdyx += g * (x[i] - mu) * is;
  }
  sdy = blockReduceSum(sdy);
  sdyx = blockReduceSum(sdyx);
  if (threadIdx.x == 0) partial[(long long)c * chunks + chunk] = make_float2(sdy, sdyx);
}

__global__ void bnGradFinalKernel(const float2* __restrict__ partial, int channels, int chunks, float2* __restrict__ sums,
                                  float* __restrict__ dgamma, float* __restrict__ dbeta, bool accumulate) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  float sdy = 0.f, sdyx = 0.f;
  for (int k = 0; k < chunks; k++) {
    const float2 p = partial[(long long)c * chunks + k];
    sdy += p.x;
    sdyx += p.y;
  }
  sums[c] = make_float2(sdy, sdyx);
  dgamma[c] = accumulate ? dgamma[c] + sdyx : sdyx;
  dbeta[c] = accumulate ? dbeta[c] + sdy : sdy;
}

__global__ void bnInputGradKernel(const float* __restrict__ x, const float* __restrict__ dy, const float* __restrict__ gamma,
                                  const float* __restrict__ mean, const float* __restrict__ invStd,
                                  const float2* __restrict__ sums, float* __restrict__ dx, int total, FastDiv bySpatial,
                                  FastDiv byChannels, float count) {
  GRID_STRIDE_LOOP(i, total) {
    const int c = bnChannel((int)i, bySpatial, byChannels);
    const float is = invStd[c];
    const float xhat = (x[i] - mean[c]) * is;
    const float2 s = sums[c];
    dx[i] = gamma[c] * is / count * (count * dy[i] - s.x - xhat * s.y);
  }
}

void requireInt32(long long total) {
  if (total >= (1LL << 31)) throw CudaError("batchnorm: tensors of 2^31 elements or more are not supported; split the batch");
}

}  // namespace

void launchBatchNormTrain(const LaunchEnv& env, const float* x, const float* gamma, const float* beta, float* runningMean,
                          float* runningVar, float* out, float* saveMean, float* saveInvStd, const BnShape& s, bool relu) {
  const long long per = (long long)s.n * s.spatial, total = per * s.c;
  requireInt32(total);
  const FastDiv bySpatial(s.spatial), byChannels(s.c);
  const int chunks = channelChunks(s.c, per, env.numSMs);
  Welford* partial = static_cast<Welford*>(env.getScratch(sizeof(Welford) * (size_t)s.c * chunks));
  INKLING_LAUNCH(dim3(s.c, chunks), 256, 0, env.stream, bnStatsPartialKernel)(x, partial, s.c, bySpatial, (int)per, chunks);
  CUDA_CHECK_LAUNCH();
  INKLING_LAUNCH(ceilDiv(s.c, 128), 128, 0, env.stream, bnStatsFinalKernel)(partial, s.c, chunks, per, s.eps, s.momentum, runningMean,
                                                                runningVar, saveMean, saveInvStd);
  CUDA_CHECK_LAUNCH();
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, bnApplyKernel)(
      x, gamma, beta, saveMean, saveInvStd, false, s.eps, out, (int)total, bySpatial, byChannels, relu);
  CUDA_CHECK_LAUNCH();
}

void launchBatchNormInference(const LaunchEnv& env, const float* x, const float* gamma, const float* beta,
                              const float* runningMean, const float* runningVar, float* out, const BnShape& s, bool relu) {
  const long long total = (long long)s.n * s.c * s.spatial;
  requireInt32(total);
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, bnApplyKernel)(
      x, gamma, beta, runningMean, runningVar, true, s.eps, out, (int)total, FastDiv(s.spatial), FastDiv(s.c), relu);
  CUDA_CHECK_LAUNCH();
}

void launchBatchNormBackward(const LaunchEnv& env, const float* x, const float* dy, const float* gamma,
                             const float* saveMean, const float* saveInvStd, float* dx, float* dgamma, float* dbeta,
                             const BnShape& s, bool accumulate) {
  const long long per = (long long)s.n * s.spatial, total = per * s.c;
  requireInt32(total);
  const FastDiv bySpatial(s.spatial), byChannels(s.c);
  const int chunks = channelChunks(s.c, per, env.numSMs);
  float2* partial = static_cast<float2*>(env.getScratch(sizeof(float2) * (size_t)s.c * (chunks + 1)));
  float2* sums = partial + (size_t)s.c * chunks;
  INKLING_LAUNCH(dim3(s.c, chunks), 256, 0, env.stream, bnGradPartialKernel)(x, dy, saveMean, saveInvStd, partial, s.c, bySpatial, (int)per, chunks);
  CUDA_CHECK_LAUNCH();
  INKLING_LAUNCH(ceilDiv(s.c, 128), 128, 0, env.stream, bnGradFinalKernel)(partial, s.c, chunks, sums, dgamma, dbeta, accumulate);
  CUDA_CHECK_LAUNCH();
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, bnInputGradKernel)(
      x, dy, gamma, saveMean, saveInvStd, sums, dx, (int)total, bySpatial, byChannels, (float)per);
  CUDA_CHECK_LAUNCH();
}

}  // namespace inkling
