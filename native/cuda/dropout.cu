// dropout / dropout2d forward and backward from the counter hash of src/nn/dropout-rng.ts:
//   key  = lowbias32(seed ^ step·0x85EBCA6B)          (uint32 wrapping multiply, as Math.imul)
//   bits = lowbias32(counter·0x9E3779B1 ^ key),  counter = floor(i / spatial)
//   keep = (bits >> 8) / 2^24 >= p   ⇔   (bits >> 8) >= ceil(p·2^24)   (exact: no float compare)
//   out  = keep ? x · 1/(1 − p) : 0;   backward: dx (+)= keep ? dy · 1/(1 − p) : 0
// The step is `step + hyper.stepDelta`, so a captured training step draws a fresh mask on every
// graph replay (see common.cuh). Nothing is stored between forward and backward.
// Version 1 (the only one): one grid-stride elementwise kernel, the key hashed per thread.
// Reference: dropoutMask in src/nn/backends/ref/dropout.ts (bit-exact mask required) and the
// CPU hash in dev/kernels_check.cu, which checks the mask against known values of the TS hash:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
#include "fastdiv.h"
#include "kernels.h"

namespace inkling {
namespace {

__device__ __forceinline__ uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

__global__ void dropoutKernel(const float* __restrict__ x, float* __restrict__ out, int n, uint32_t seed, uint32_t step,
                              const HyperBlock* __restrict__ hyper, uint32_t keepThreshold, float keepScale,
                              FastDiv bySpatial, bool accumulate) {
  const uint32_t key = lowbias32(seed ^ ((step + hyper->stepDelta) * 0x85ebca6bu));
  GRID_STRIDE_LOOP(i, n) {
    const uint32_t counter = (uint32_t)bySpatial.div((int)i);  // int32: the launcher refuses n >= 2^31
    const uint32_t bits = lowbias32((counter * 0x9e3779b1u) ^ key);
    const float v = (bits >> 8) >= keepThreshold ? x[i] * keepScale : 0.f;
    out[i] = accumulate ? out[i] + v : v;
  }
}

}  // namespace

void launchDropout(const LaunchEnv& env, const float* x, float* out, long long n, uint32_t seed, uint32_t step,
                   uint32_t keepThreshold, float keepScale, long long spatial, bool backward, bool accumulate) {
  if (n <= 0) return;
  if (n >= (1LL << 31) || spatial < 1 || spatial >= (1LL << 31)) {
    throw CudaError("dropout: tensors of 2^31 elements or more are not supported; split the batch");
  }
  INKLING_LAUNCH(elementwiseBlocks(n, 256, env.numSMs), 256, 0, env.stream, dropoutKernel)(
      x, out, (int)n, seed, step, env.hyper, keepThreshold, keepScale, FastDiv((int32_t)spatial), backward && accumulate);
  CUDA_CHECK_LAUNCH();
}

}  // namespace inkling
