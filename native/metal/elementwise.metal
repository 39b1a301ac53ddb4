// Elementwise kernels: fill32, unary, binary, scale, axpy, reluBackward — one thread per element,
// threadgroups of 256 (the launcher dispatches ceil(n / 256) of them; the tail is masked here).
// Memory-bound: 4·(inputs + 1)·n bytes each. On unified memory a seed-CNN-sized tensor (≤ 13 MB)
// takes microseconds; dispatch overhead dominates, which one command buffer per training step
// amortises. Same semantics as native/cuda/elementwise.cu; reference src/nn/backends/ref/elementwise.ts.
#include "common.h"

kernel void fill32(device uint* out [[buffer(0)]], constant EltArgs& a [[buffer(1)]],
                   uint i [[thread_position_in_grid]]) {
  if (i < a.n) out[i] = a.bits;
}

// op: 0 neg, 1 exp, 2 log, 3 sqrt, 4 abs, 5 relu (NaN → 0, like the ref's v > 0 ? v : 0)
kernel void unary_f32(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                      constant EltArgs& a [[buffer(2)]], uint i [[thread_position_in_grid]]) {
  if (i >= a.n) return;
  float v = x[i];
  switch (a.op) {
    case 0: v = -v; break;
    case 1: v = exp(v); break;
    case 2: v = log(v); break;
    case 3: v = sqrt(v); break;
    case 4: v = fabs(v); break;
    default: v = v > 0.0f ? v : 0.0f; break;
  }
  out[i] = v;
}

// op: 0 add, 1 sub, 2 mul, 3 div, 4 max (NaN propagates, as Math.max)
kernel void binary_f32(device const float* x [[buffer(0)]], device const float* y [[buffer(1)]],
                       device float* out [[buffer(2)]], constant EltArgs& a [[buffer(3)]],
                       uint i [[thread_position_in_grid]]) {
  if (i >= a.n) return;
  const float p = x[i], q = y[i];
  float v;
  switch (a.op) {
    case 0: v = p + q; break;
    case 1: v = p - q; break;
    case 2: v = p * q; break;
    case 3: v = p / q; break;
    default: v = (isnan(p) || isnan(q)) ? NAN : fmax(p, q); break;
  }
  out[i] = v;
}

// out = alpha·x + beta; out may alias x (the contract allows it).
kernel void scale_f32(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                      constant EltArgs& a [[buffer(2)]], uint i [[thread_position_in_grid]]) {
  if (i < a.n) out[i] = a.alpha * x[i] + a.beta;
}

kernel void axpy_f32(device const float* x [[buffer(0)]], device float* y [[buffer(1)]],
                     constant EltArgs& a [[buffer(2)]], uint i [[thread_position_in_grid]]) {
  if (i < a.n) y[i] += a.alpha * x[i];
}

kernel void relu_backward_f32(device const float* x [[buffer(0)]], device const float* dy [[buffer(1)]],
                              device float* dx [[buffer(2)]], constant EltArgs& a [[buffer(3)]],
                              uint i [[thread_position_in_grid]]) {
  if (i >= a.n) return;
  const float g = x[i] > 0.0f ? dy[i] : 0.0f;
  dx[i] = a.accumulate ? dx[i] + g : g;
}
