// Elementwise kernels: fill, unary, binary, scale, axpy, reluBackward, and the hyper-block setter.
//
// Memory-bound: each moves 4·(inputs + 1)·n bytes; one grid-stride kernel per op at 256 threads,
// up to 32 blocks per SM. Version 1 (the only one): plain float loads — at the seed CNN's sizes
// (≤ 13 MB) these take a few µs and launch overhead dominates, which CUDA graphs remove.
// Reference: src/nn/backends/ref/elementwise.ts (through the conformance table) and the CPU loops
// in dev/kernels_check.cu:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o kernels_check native/cuda/dev/kernels_check.cu && ./kernels_check
#include "kernels.h"

namespace inkling {
namespace {

__global__ void fill32Kernel(uint32_t* __restrict__ out, uint32_t bits, long long n) {
  GRID_STRIDE_LOOP(i, n) out[i] = bits;
}

template <UnaryOp Op>
__global__ void unaryKernel(const float* __restrict__ x, float* __restrict__ out, long long n) {
  GRID_STRIDE_LOOP(i, n) {
    float v = x[i];
    if (Op == UnaryOp::Neg) v = -v;
    else if (Op == UnaryOp::Exp) v = expf(v);
    else if (Op == UnaryOp::Log) v = logf(v);
    else if (Op == UnaryOp::Sqrt) v = sqrtf(v);
    else if (Op == UnaryOp::Abs) v = fabsf(v);
    else v = v > 0.f ? v : 0.f;  // Relu (NaN → 0, like the ref's v > 0 ? v : 0)
    out[i] = v;
  }
}

template <BinaryOp Op>
__global__ void binaryKernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out, long long n) {
  GRID_STRIDE_LOOP(i, n) {
    float x = a[i], y = b[i], v;
    if (Op == BinaryOp::Add) v = x + y;
    else if (Op == BinaryOp::Sub) v = x - y;
    else if (Op == BinaryOp::Mul) v = x * y;
    else if (Op == BinaryOp::Div) v = x / y;
    else v = (x != x || y != y) ? __int_as_float(0x7fc00000) : fmaxf(x, y);  // Math.max propagates NaN
    out[i] = v;
  }
}

// out may alias x (the contract allows it): no __restrict__ here.
__global__ void scaleKernel(const float* x, float alpha, float beta, float* out, long long n) {
  GRID_STRIDE_LOOP(i, n) out[i] = alpha * x[i] + beta;
}

__global__ void axpyKernel(float alpha, const float* __restrict__ x, float* __restrict__ y, long long n) {
  GRID_STRIDE_LOOP(i, n) y[i] += alpha * x[i];
}

__global__ void reluBackwardKernel(const float* __restrict__ x, const float* __restrict__ dy, float* __restrict__ dx,
                                   long long n, bool accumulate) {
  GRID_STRIDE_LOOP(i, n) {
    float g = x[i] > 0.f ? dy[i] : 0.f;
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

__global__ void setHyperKernel(HyperBlock* h, float lrOverride, uint32_t stepDelta) {
  h->lrOverride = lrOverride;
  h->stepDelta = stepDelta;
}

int blocks(const LaunchEnv& env, long long n) { return elementwiseBlocks(n, 256, env.numSMs); }

}  // namespace

void launchFill32(const LaunchEnv& env, uint32_t* out, uint32_t bits, long long n) {
  if (n <= 0) return;
  INKLING_LAUNCH(blocks(env, n), 256, 0, env.stream, fill32Kernel)(out, bits, n);
  CUDA_CHECK_LAUNCH();
}

void launchUnary(const LaunchEnv& env, UnaryOp op, const float* x, float* out, long long n) {
  if (n <= 0) return;
  const int g = blocks(env, n);
  switch (op) {
    case UnaryOp::Neg: INKLING_LAUNCH(g, 256, 0, env.stream, unaryKernel<UnaryOp::Neg>)(x, out, n); break;
    case UnaryOp::Exp: INKLING_LAUNCH(g, 256, 0, env.stream, unaryKernel<UnaryOp::Exp>)(x, out, n); break;
    case UnaryOp::Log: INKLING_LAUNCH(g, 256, 0, env.stream, unaryKernel<UnaryOp::Log>)(x, out, n); break;
    case UnaryOp::Sqrt: INKLING_LAUNCH(g, 256, 0, env.stream, unaryKernel<UnaryOp::Sqrt>)(x, out, n); break;
    case UnaryOp::Abs: INKLING_LAUNCH(g, 256, 0, env.stream, unaryKernel<UnaryOp::Abs>)(x, out, n); break;
    case UnaryOp::Relu: INKLING_LAUNCH(g, 256, 0, env.stream, unaryKernel<UnaryOp::Relu>)(x, out, n); break;
  }
  CUDA_CHECK_LAUNCH();
}

void launchBinary(const LaunchEnv& env, BinaryOp op, const float* a, const float* b, float* out, long long n) {
  if (n <= 0) return;
  const int g = blocks(env, n);
  switch (op) {
    case BinaryOp::Add: INKLING_LAUNCH(g, 256, 0, env.stream, binaryKernel<BinaryOp::Add>)(a, b, out, n); break;
    case BinaryOp::Sub: INKLING_LAUNCH(g, 256, 0, env.stream, binaryKernel<BinaryOp::Sub>)(a, b, out, n); break;
    case BinaryOp::Mul: INKLING_LAUNCH(g, 256, 0, env.stream, binaryKernel<BinaryOp::Mul>)(a, b, out, n); break;
    case BinaryOp::Div: INKLING_LAUNCH(g, 256, 0, env.stream, binaryKernel<BinaryOp::Div>)(a, b, out, n); break;
    case BinaryOp::Max: INKLING_LAUNCH(g, 256, 0, env.stream, binaryKernel<BinaryOp::Max>)(a, b, out, n); break;
  }
  CUDA_CHECK_LAUNCH();
}

void launchScale(const LaunchEnv& env, const float* x, float alpha, float beta, float* out, long long n) {
  if (n <= 0) return;
  INKLING_LAUNCH(blocks(env, n), 256, 0, env.stream, scaleKernel)(x, alpha, beta, out, n);
  CUDA_CHECK_LAUNCH();
}

void launchAxpy(const LaunchEnv& env, float alpha, const float* x, float* y, long long n) {
  if (n <= 0) return;
  INKLING_LAUNCH(blocks(env, n), 256, 0, env.stream, axpyKernel)(alpha, x, y, n);
  CUDA_CHECK_LAUNCH();
}

void launchReluBackward(const LaunchEnv& env, const float* x, const float* dy, float* dx, long long n, bool accumulate) {
  if (n <= 0) return;
  INKLING_LAUNCH(blocks(env, n), 256, 0, env.stream, reluBackwardKernel)(x, dy, dx, n, accumulate);
  CUDA_CHECK_LAUNCH();
}

void launchSetHyper(const LaunchEnv& env, HyperBlock* hyper, float lrOverride, uint32_t stepDelta) {
  INKLING_LAUNCH(1, 1, 0, env.stream, setHyperKernel)(hyper, lrOverride, stepDelta);
  CUDA_CHECK_LAUNCH();
}

}  // namespace inkling
