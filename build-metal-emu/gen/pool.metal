#line 1 "native/metal/pool.metal"
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

/*kernel*/ void max_pool_forward(device const float* x, device float* out,
                             device int* argmax, constant PoolArgs& a,
                             uint o = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
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

/*kernel*/ void max_pool_backward(device const float* dy, device const int* argmax,
                              device float* dx, constant PoolArgs& a,
                              uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
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

/*kernel*/ void avg_pool_forward(device const float* x, device float* out,
                             constant PoolArgs& a, uint o = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (o >= a.total) return;
  const uint ow = o % a.wOut, q = o / a.wOut, oh = q % a.hOut, plane = q / a.hOut;
  device const float* p = x + ulong(plane) * a.h * a.w;
  float sum = 0.0f;
  for (uint ky = 0; ky < a.kh; ky++)
    for (uint kx = 0; kx < a.kw; kx++) sum += p[(oh * a.stride + ky) * a.w + ow * a.stride + kx];
  out[o] = sum * (1.0f / float(a.kh * a.kw));
}

/*kernel*/ void avg_pool_backward(device const float* dy, device float* dx,
                              constant PoolArgs& a, uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
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
// ---- registrations (metal-emu pre-pass) ----
static const ::msl_emu::KernelRegistration inkling_emu_register_max_pool_forward("max_pool_forward", 4, "native/metal/pool.metal", 21, [](const ::msl_emu::BoundArgs& a) { max_pool_forward(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<device int*>(a, 2), ::msl_emu::bind<constant PoolArgs&>(a, 3)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_max_pool_backward("max_pool_backward", 4, "native/metal/pool.metal", 42, [](const ::msl_emu::BoundArgs& a) { max_pool_backward(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device const int*>(a, 1), ::msl_emu::bind<device float*>(a, 2), ::msl_emu::bind<constant PoolArgs&>(a, 3)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_avg_pool_forward("avg_pool_forward", 3, "native/metal/pool.metal", 60, [](const ::msl_emu::BoundArgs& a) { avg_pool_forward(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<constant PoolArgs&>(a, 2)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_avg_pool_backward("avg_pool_backward", 3, "native/metal/pool.metal", 71, [](const ::msl_emu::BoundArgs& a) { avg_pool_backward(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<constant PoolArgs&>(a, 2)); });
