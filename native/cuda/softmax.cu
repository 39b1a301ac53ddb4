// Row softmax / log-softmax and the fused softmax + cross-entropy loss, [rows, cols]:
//   log p_j = x_j − max − log Σ_k exp(x_k − max)
//   loss    = mean_r ( −(1 − s)·log p_label − (s / cols)·Σ_j log p_j )   (PyTorch label_smoothing)
//   dlogits (+)= dloss[0] · (p − t) / rows,  t = (1 − s)·onehot(label) + s/cols
// One warp per row (the seed CNN has cols = 10; longer rows loop in strides of 32). The loss is
// per-row into scratch, then one block adds the rows in a fixed tree (deterministic) and divides.
// A label outside [0, cols) cannot throw on the device: that row's loss is NaN, so the mean is
// NaN and the mistake is visible at the next readback (the ref backend throws instead).
// Version 1 (the only one). Reference: src/nn/backends/ref/softmax.ts (float64 there); CPU loops
// in dev/kernels_check.cu:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
#include "kernels.h"

namespace inkling {
namespace {

// Row max and log Σ exp(x − max), reduced across the warp.
__device__ __forceinline__ void rowStats(const float* r, int cols, int lane, float& max, float& logSum) {
  float m = -INFINITY;
  for (int j = lane; j < cols; j += 32) m = fmaxf(m, r[j]);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  float s = 0.f;
  for (int j = lane; j < cols; j += 32) s += expf(r[j] - m);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  max = m;
  logSum = logf(s);
}

__global__ void softmaxKernel(const float* __restrict__ x, float* __restrict__ out, int rows, int cols, bool logSoftmax) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const float* r = x + (long long)row * cols;
  float* o = out + (long long)row * cols;
  float max, logSum;
  rowStats(r, cols, lane, max, logSum);
  for (int j = lane; j < cols; j += 32) {
    const float lp = r[j] - max - logSum;
    o[j] = logSoftmax ? lp : expf(lp);
  }
}

__global__ void crossEntropyRowsKernel(const float* __restrict__ logits, const int32_t* __restrict__ labels,
                                       float* __restrict__ probs, float* __restrict__ rowLoss, int rows, int cols, float smoothing) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const float* r = logits + (long long)row * cols;
  float max, logSum;
  rowStats(r, cols, lane, max, logSum);
  const int label = labels[row];
  float sumLogp = 0.f, labelLogp = 0.f;
  for (int j = lane; j < cols; j += 32) {
    const float lp = r[j] - max - logSum;
    probs[(long long)row * cols + j] = expf(lp);
    sumLogp += lp;
    if (j == label) labelLogp = lp;
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    sumLogp += __shfl_xor_sync(0xffffffffu, sumLogp, o);
    labelLogp += __shfl_xor_sync(0xffffffffu, labelLogp, o);
  }
  if (lane == 0) {
    const bool valid = label >= 0 && label < cols;
    rowLoss[row] = valid ? -(1.f - smoothing) * labelLogp - (smoothing / cols) * sumLogp : __int_as_float(0x7fc00000);
  }
}

__global__ void meanKernel(const float* __restrict__ rowLoss, float* __restrict__ loss, int rows) {
  float s = 0.f;
  for (int i = threadIdx.x; i < rows; i += blockDim.x) s += rowLoss[i];
  s = blockReduceSum(s);
  if (threadIdx.x == 0) loss[0] = s / (float)rows;
}

__global__ void crossEntropyBackwardKernel(const float* __restrict__ probs, const int32_t* __restrict__ labels,
                                           const float* __restrict__ dloss, float* __restrict__ dlogits, int rows, int cols,
                                           float smoothing, bool accumulate) {
  const long long total = (long long)rows * cols;
  const float k = dloss[0] / (float)rows;
  const float base = smoothing / (float)cols;
  GRID_STRIDE_LOOP(i, total) {
    const int row = (int)(i / cols), j = (int)(i - (long long)row * cols);
    const float t = (j == labels[row] ? 1.f - smoothing : 0.f) + base;
    const float g = k * (probs[i] - t);
    dlogits[i] = accumulate ? dlogits[i] + g : g;
  }
}

}  // namespace

void launchSoftmax(const LaunchEnv& env, const float* x, float* out, int rows, int cols, bool logSoftmax) {
  if (rows <= 0) return;
  INKLING_LAUNCH(ceilDiv(rows, 8), 256, 0, env.stream, softmaxKernel)(x, out, rows, cols, logSoftmax);
  CUDA_CHECK_LAUNCH();
}

void launchSoftmaxCrossEntropy(const LaunchEnv& env, const float* logits, const int32_t* labels, float* probs, float* loss,
                               int rows, int cols, float labelSmoothing) {
  if (rows <= 0) return;
  float* rowLoss = static_cast<float*>(env.getScratch(sizeof(float) * (size_t)rows));
  INKLING_LAUNCH(ceilDiv(rows, 8), 256, 0, env.stream, crossEntropyRowsKernel)(logits, labels, probs, rowLoss, rows, cols, labelSmoothing);
  CUDA_CHECK_LAUNCH();
  INKLING_LAUNCH(1, 1024, 0, env.stream, meanKernel)(rowLoss, loss, rows);
  CUDA_CHECK_LAUNCH();
}

void launchSoftmaxCrossEntropyBackward(const LaunchEnv& env, const float* probs, const int32_t* labels, const float* dloss,
                                       float* dlogits, int rows, int cols, float labelSmoothing, bool accumulate) {
  const long long total = (long long)rows * cols;
  if (total <= 0) return;
  INKLING_LAUNCH(elementwiseBlocks(total, 256, env.numSMs), 256, 0, env.stream, crossEntropyBackwardKernel)(
      probs, labels, dloss, dlogits, rows, cols, labelSmoothing, accumulate);
  CUDA_CHECK_LAUNCH();
}

}  // namespace inkling
