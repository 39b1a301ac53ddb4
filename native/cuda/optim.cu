// Optimizer updates, in place, one thread per parameter element (PyTorch's formulas; reference
// src/nn/backends/ref/optim.ts, CPU loops in dev/kernels_check.cu):
//   SGD:  g = grad + wd·p; with momentum μ: v = μ·v + (1 − dampening)·g; g = nesterov ? g + μ·v : v
//         p −= lr·g
//   Adam: g = grad + wd·p  (AdamW: p −= lr·wd·p first, g = grad)
//         m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//         p −= lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)
// lr and t go through the hyper block (common.cuh): lr = hyper.lrOverride unless NaN, and
// t = step + hyper.stepDelta, so a captured training step stays correct when replayed with a new
// learning rate and the next step number. Napkin math: Adam moves 4 arrays in + 3 out = 28 B per
// parameter: the seed CNN's 421,834 parameters are 11.8 MB, ~4 µs at 3 TB/s.
// Version 1 (the only one). Checked (including the hyper block) and timed in dev/kernels_check.cu:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
#include "kernels.h"

namespace inkling {
namespace {

__global__ void sgdKernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ velocity, long long n,
                          SgdArgs a, const HyperBlock* __restrict__ hyper) {
  const float lr = effectiveLr(hyper, a.lr);
  GRID_STRIDE_LOOP(i, n) {
    float g = grad[i] + a.weightDecay * param[i];
    if (a.momentum != 0.f) {
      const float v = a.momentum * velocity[i] + (1.f - a.dampening) * g;
      velocity[i] = v;
      g = a.nesterov ? g + a.momentum * v : v;
    }
    param[i] = param[i] - lr * g;
  }
}

__global__ void adamKernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m, float* __restrict__ v,
                           long long n, AdamArgs a, const HyperBlock* __restrict__ hyper) {
  const float lr = effectiveLr(hyper, a.lr);
  const float t = (float)(a.step + hyper->stepDelta);
  const float bias1 = 1.f - powf(a.beta1, t);
  const float bias2 = 1.f - powf(a.beta2, t);
  GRID_STRIDE_LOOP(i, n) {
    float w = param[i];
    float g = grad[i];
    if (a.decoupled) w = w - lr * a.weightDecay * w;
    else g = g + a.weightDecay * w;
    const float mi = a.beta1 * m[i] + (1.f - a.beta1) * g;
    const float vi = a.beta2 * v[i] + (1.f - a.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = w - (lr * (mi / bias1)) / (sqrtf(vi / bias2) + a.eps);
  }
}

}  // namespace

void launchSgdStep(const LaunchEnv& env, float* param, const float* grad, float* velocity, long long n, const SgdArgs& a) {
  if (n <= 0) return;
  INKLING_LAUNCH(elementwiseBlocks(n, 256, env.numSMs), 256, 0, env.stream, sgdKernel)(param, grad, velocity, n, a, env.hyper);
  CUDA_CHECK_LAUNCH();
}

void launchAdamStep(const LaunchEnv& env, float* param, const float* grad, float* m, float* v, long long n, const AdamArgs& a) {
  if (n <= 0) return;
  INKLING_LAUNCH(elementwiseBlocks(n, 256, env.numSMs), 256, 0, env.stream, adamKernel)(param, grad, m, v, n, a, env.hyper);
  CUDA_CHECK_LAUNCH();
}

}  // namespace inkling
