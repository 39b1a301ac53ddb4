#line 1 "native/metal/elementwise.metal"
// Elementwise kernels: fill32, unary, binary, scale, axpy, reluBackward — one thread per element,
// threadgroups of 256 (the launcher dispatches ceil(n / 256) of them; the tail is masked here).
// Memory-bound: 4·(inputs + 1)·n bytes each. On unified memory a seed-CNN-sized tensor (≤ 13 MB)
// takes microseconds; dispatch overhead dominates, which one command buffer per training step
// amortises. Same semantics as native/cuda/elementwise.cu; reference src/nn/backends/ref/elementwise.ts.
#include "common.h"

/*kernel*/ void fill32(device uint* out, constant EltArgs& a,
                   uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (i < a.n) out[i] = a.bits;
}

// op: 0 neg, 1 exp, 2 log, 3 sqrt, 4 abs, 5 relu (NaN → 0, like the ref's v > 0 ? v : 0)
/*kernel*/ void unary_f32(device const float* x, device float* out,
                      constant EltArgs& a, uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
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
/*kernel*/ void binary_f32(device const float* x, device const float* y,
                       device float* out, constant EltArgs& a,
                       uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
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
/*kernel*/ void scale_f32(device const float* x, device float* out,
                      constant EltArgs& a, uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (i < a.n) out[i] = a.alpha * x[i] + a.beta;
}

/*kernel*/ void axpy_f32(device const float* x, device float* y,
                     constant EltArgs& a, uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (i < a.n) y[i] += a.alpha * x[i];
}

/*kernel*/ void relu_backward_f32(device const float* x, device const float* dy,
                              device float* dx, constant EltArgs& a,
                              uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (i >= a.n) return;
  const float g = x[i] > 0.0f ? dy[i] : 0.0f;
  dx[i] = a.accumulate ? dx[i] + g : g;
}
// ---- registrations (metal-emu pre-pass) ----
static const ::msl_emu::KernelRegistration inkling_emu_register_fill32("fill32", 2, "native/metal/elementwise.metal", 9, [](const ::msl_emu::BoundArgs& a) { fill32(::msl_emu::bind<device uint*>(a, 0), ::msl_emu::bind<constant EltArgs&>(a, 1)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_unary_f32("unary_f32", 3, "native/metal/elementwise.metal", 15, [](const ::msl_emu::BoundArgs& a) { unary_f32(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<constant EltArgs&>(a, 2)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_binary_f32("binary_f32", 4, "native/metal/elementwise.metal", 32, [](const ::msl_emu::BoundArgs& a) { binary_f32(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device const float*>(a, 1), ::msl_emu::bind<device float*>(a, 2), ::msl_emu::bind<constant EltArgs&>(a, 3)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_scale_f32("scale_f32", 3, "native/metal/elementwise.metal", 48, [](const ::msl_emu::BoundArgs& a) { scale_f32(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<constant EltArgs&>(a, 2)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_axpy_f32("axpy_f32", 3, "native/metal/elementwise.metal", 53, [](const ::msl_emu::BoundArgs& a) { axpy_f32(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<constant EltArgs&>(a, 2)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_relu_backward_f32("relu_backward_f32", 4, "native/metal/elementwise.metal", 59, [](const ::msl_emu::BoundArgs& a) { relu_backward_f32(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device const float*>(a, 1), ::msl_emu::bind<device float*>(a, 2), ::msl_emu::bind<constant EltArgs&>(a, 3)); });
