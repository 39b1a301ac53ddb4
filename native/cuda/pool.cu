// Pooling, NCHW, kh×kw windows, stride s, no padding, floor mode (PyTorch's default):
//   maxPool2d           out = window max, argmax = ih·W + iw within the (n, c) plane (first on
//                       ties; a NaN wins, as in the ref); one thread per output.
//   maxPool2dBackward   dx[n,c,ih,iw] = Σ over the windows containing (ih, iw) whose argmax is it
//                       of dy — a *gather*: one thread per input element visits its ≤ ⌈kh/s⌉·⌈kw/s⌉
//                       windows in a fixed order. No scatter, no float atomics: deterministic, and
//                       every dx element (including those no window covers) is written once.
//   avgPool2d / Backward the same two shapes, dy / (kh·kw) spread by gather.
// Napkin math, pool2 forward at batch 512: reads 25.7 MB, writes 6.4 + 6.4 MB (out + argmax):
// ~13 µs at 3 TB/s. Version 1 (the only one): one thread per output (forward) / input (backward).
// Reference: src/nn/backends/ref/pool.ts; CPU loops and timings in dev/kernels_check.cu:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
#include "fastdiv.h"
#include "kernels.h"

namespace inkling {
namespace {

// Flat index → (plane, row, col) with FastDiv (int32 indices: the launchers refuse 2^31+ elements).
struct PlaneIndex {
  FastDiv byW, byH;
  __device__ __forceinline__ void split(int i, int& plane, int& row, int& col) const {
    const int q = byW.div(i);
    col = byW.mod(i, q);
    plane = byH.div(q);
    row = byH.mod(q, plane);
  }
};

__global__ void maxPoolKernel(const float* __restrict__ x, float* __restrict__ out, int32_t* __restrict__ argmax, PoolShape s,
                              int total, PlaneIndex outIdx) {
  GRID_STRIDE_LOOP(o, total) {
    int plane, oh, ow;
    outIdx.split((int)o, plane, oh, ow);
    const float* p = x + (long long)plane * s.h * s.w;
    float best = -INFINITY;
    int bestIndex = -1;
    for (int ky = 0; ky < s.kh; ky++)
      for (int kx = 0; kx < s.kw; kx++) {
        const int idx = (oh * s.stride + ky) * s.w + ow * s.stride + kx;
        const float v = p[idx];
        if (bestIndex < 0 || v > best || v != v) { best = v; bestIndex = idx; }
      }
    out[o] = best;
    argmax[o] = bestIndex;
  }
}

// Output windows that contain input row/col i: o with o·s ≤ i ≤ o·s + k − 1, 0 ≤ o < nOut.
__device__ __forceinline__ void windowRange(int i, int k, int s, int nOut, int& lo, int& hi) {
  lo = i - k + 1 <= 0 ? 0 : (i - k + 1 + s - 1) / s;
  hi = min(i / s, nOut - 1);
}

__global__ void maxPoolBackwardKernel(const float* __restrict__ dy, const int32_t* __restrict__ argmax, float* __restrict__ dx,
                                      PoolShape s, int total, PlaneIndex inIdx) {
  GRID_STRIDE_LOOP(i, total) {
    int plane, ih, iw;
    inIdx.split((int)i, plane, ih, iw);
    const int self = ih * s.w + iw;
    int ohLo, ohHi, owLo, owHi;
    windowRange(ih, s.kh, s.stride, s.hOut, ohLo, ohHi);
    windowRange(iw, s.kw, s.stride, s.wOut, owLo, owHi);
    float g = 0.f;
    const long long base = (long long)plane * s.hOut * s.wOut;
    for (int oh = ohLo; oh <= ohHi; oh++)
      for (int ow = owLo; ow <= owHi; ow++) {
        const long long o = base + (long long)oh * s.wOut + ow;
        if (argmax[o] == self) g += dy[o];
      }
    dx[i] = g;
  }
}

__global__ void avgPoolKernel(const float* __restrict__ x, float* __restrict__ out, PoolShape s, int total, PlaneIndex outIdx) {
  const float inv = 1.f / (float)(s.kh * s.kw);
  GRID_STRIDE_LOOP(o, total) {
    int plane, oh, ow;
    outIdx.split((int)o, plane, oh, ow);
    const float* p = x + (long long)plane * s.h * s.w;
    float sum = 0.f;
    for (int ky = 0; ky < s.kh; ky++)
      for (int kx = 0; kx < s.kw; kx++) sum += p[(oh * s.stride + ky) * s.w + ow * s.stride + kx];
    out[o] = sum * inv;
  }
}

__global__ void avgPoolBackwardKernel(const float* __restrict__ dy, float* __restrict__ dx, PoolShape s, int total, PlaneIndex inIdx) {
  const float inv = 1.f / (float)(s.kh * s.kw);
  GRID_STRIDE_LOOP(i, total) {
    int plane, ih, iw;
    inIdx.split((int)i, plane, ih, iw);
    int ohLo, ohHi, owLo, owHi;
    windowRange(ih, s.kh, s.stride, s.hOut, ohLo, ohHi);
    windowRange(iw, s.kw, s.stride, s.wOut, owLo, owHi);
    float g = 0.f;
    const long long base = (long long)plane * s.hOut * s.wOut;
    for (int oh = ohLo; oh <= ohHi; oh++)
      for (int ow = owLo; ow <= owHi; ow++) g += dy[base + (long long)oh * s.wOut + ow];
    dx[i] = g * inv;
  }
}

int checkedTotal(long long total) {
  if (total >= (1LL << 31)) throw CudaError("pooling: tensors of 2^31 elements or more are not supported; split the batch");
  return (int)total;
}
PlaneIndex outIndex(const PoolShape& s) { return PlaneIndex{FastDiv(s.wOut), FastDiv(s.hOut)}; }
PlaneIndex inIndex(const PoolShape& s) { return PlaneIndex{FastDiv(s.w), FastDiv(s.h)}; }

}  // namespace

void launchMaxPool2d(const LaunchEnv& env, const float* x, float* out, int32_t* argmax, const PoolShape& s) {
  const long long total = (long long)s.n * s.c * s.hOut * s.wOut;
  if (total <= 0) return;
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, maxPoolKernel)(x, out, argmax, s, checkedTotal(total), outIndex(s));
  CUDA_CHECK_LAUNCH();
}

void launchMaxPool2dBackward(const LaunchEnv& env, const float* dy, const int32_t* argmax, float* dx, const PoolShape& s) {
  const long long total = (long long)s.n * s.c * s.h * s.w;
  if (total <= 0) return;
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, maxPoolBackwardKernel)(dy, argmax, dx, s, checkedTotal(total), inIndex(s));
  CUDA_CHECK_LAUNCH();
}

void launchAvgPool2d(const LaunchEnv& env, const float* x, float* out, const PoolShape& s) {
  const long long total = (long long)s.n * s.c * s.hOut * s.wOut;
  if (total <= 0) return;
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, avgPoolKernel)(x, out, s, checkedTotal(total), outIndex(s));
  CUDA_CHECK_LAUNCH();
}

void launchAvgPool2dBackward(const LaunchEnv& env, const float* dy, float* dx, const PoolShape& s) {
  const long long total = (long long)s.n * s.c * s.h * s.w;
  if (total <= 0) return;
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, avgPoolBackwardKernel)(dy, dx, s, checkedTotal(total), inIndex(s));
  CUDA_CHECK_LAUNCH();
}

}  // namespace inkling
