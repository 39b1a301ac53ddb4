// Pooling, NCHW, kh×kw windows, stride s, no padding, floor mode (PyTorch's default):
//   max_pool_forward   out = window max, argmax = ih·W + iw within the (n, c) plane (first on ties;
//                      a NaN wins, as in the ref); one thread per output
//   max_pool_backward  dx[n,c,ih,iw] = Σ of dy over the windows containing (ih, iw) whose argmax is
//                      it — a gather, one thread per input element visiting its windows in a fixed
//                      order: no scatter, no atomics, every dx element written once
//   avg_pool_forward / avg_pool_backward  the same two shapes, dy / (kh·kw) spread by gather
// As native/cuda/pool.cu; reference src/nn/backends/ref/pool.ts.
#include "common.h"

namespace ink {
// Output windows that contain input row/col i: o with o·s ≤ i ≤ o·s + k − 1, 0 ≤ o < nOut.
inline void windowRange(int i, int k, int s, int nOut, thread int& lo, thread int& hi) {
  lo = i - k + 1 <= 0 ? 0 : (i - k + 1 + s - 1) / s;
  hi = min(i / s, nOut - 1);
}
}  // namespace ink

kernel void max_pool_forward(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                             device int* argmax [[buffer(2)]], constant PoolArgs& a [[buffer(3)]],
                             uint o [[thread_position_in_grid]]) {
  if (o >= a.total) return;
  const uint ow = o % a.wOut, q = o / a.wOut, oh = q % a.hOut, plane = q / a.hOut;
  device const float* p = x + ulong(plane) * a.h * a.w;
  float best = -INFINITY;
  int bestIndex = -1;
  for (uint ky = 0; ky < a.kh; ky++)
    for (uint kx = 0; kx < a.kw; kx++) {
      const int idx = int((oh * a.stride + ky) * a.w + ow * a.stride + kx);
      const float v = p[idx];
      if (bestIndex < 0 || v > best || isnan(v)) {
        best = v;
        bestIndex = idx;
      }
    }
  out[o] = best;
  argmax[o] = bestIndex;
}

kernel void max_pool_backward(device const float* dy [[buffer(0)]], device const int* argmax [[buffer(1)]],
                              device float* dx [[buffer(2)]], constant PoolArgs& a [[buffer(3)]],
                              uint i [[thread_position_in_grid]]) {
  if (i >= a.total) return;
  const int iw = int(i % a.w), q = int(i / a.w), ih = q % int(a.h), plane = q / int(a.h);
  const int self = ih * int(a.w) + iw;
  int ohLo, ohHi, owLo, owHi;
  ink::windowRange(ih, int(a.kh), int(a.stride), int(a.hOut), ohLo, ohHi);
  ink::windowRange(iw, int(a.kw), int(a.stride), int(a.wOut), owLo, owHi);
  const ulong base = ulong(plane) * a.hOut * a.wOut;
  float g = 0.0f;
  for (int oh = ohLo; oh <= ohHi; oh++)
    for (int ow = owLo; ow <= owHi; ow++) {
      const ulong o = base + ulong(oh) * a.wOut + ow;
      if (argmax[o] == self) g += dy[o];
    }
  dx[i] = g;
}

kernel void avg_pool_forward(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                             constant PoolArgs& a [[buffer(2)]], uint o [[thread_position_in_grid]]) {
  if (o >= a.total) return;
  const uint ow = o % a.wOut, q = o / a.wOut, oh = q % a.hOut, plane = q / a.hOut;
  device const float* p = x + ulong(plane) * a.h * a.w;
  float sum = 0.0f;
  for (uint ky = 0; ky < a.kh; ky++)
    for (uint kx = 0; kx < a.kw; kx++) sum += p[(oh * a.stride + ky) * a.w + ow * a.stride + kx];
  out[o] = sum * (1.0f / float(a.kh * a.kw));
}

kernel void avg_pool_backward(device const float* dy [[buffer(0)]], device float* dx [[buffer(1)]],
                              constant PoolArgs& a [[buffer(2)]], uint i [[thread_position_in_grid]]) {
  if (i >= a.total) return;
  const int iw = int(i % a.w), q = int(i / a.w), ih = q % int(a.h), plane = q / int(a.h);
  int ohLo, ohHi, owLo, owHi;
  ink::windowRange(ih, int(a.kh), int(a.stride), int(a.hOut), ohLo, ohHi);
  ink::windowRange(iw, int(a.kw), int(a.stride), int(a.wOut), owLo, owHi);
  const ulong base = ulong(plane) * a.hOut * a.wOut;
  float g = 0.0f;
  for (int oh = ohLo; oh <= ohHi; oh++)
    for (int ow = owLo; ow <= owHi; ow++) g += dy[base + ulong(oh) * a.wOut + ow];
  dx[i] = g * (1.0f / float(a.kh * a.kw));
}
