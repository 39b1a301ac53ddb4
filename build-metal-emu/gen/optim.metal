#line 1 "native/metal/optim.metal"
// Optimizer updates, in place, one thread per parameter element (PyTorch's formulas; reference
// src/nn/backends/ref/optim.ts):
//   SGD:  g = grad + wd·p; with momentum μ: v = μ·v + (1 − dampening)·g; g = nesterov ? g + μ·v : v
//         p −= lr·g
//   Adam: g = grad + wd·p  (AdamW: p −= lr·wd·p first, g = grad)
//         m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//         p −= lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)
// The bias corrections 1 − β^t are computed on the host in double (AdamArgs.bias1/bias2).
// Napkin math: Adam moves 4 arrays in and 3 out, 28 B per parameter: the seed CNN's 421,834
// parameters are 11.8 MB per step.
#include "common.h"

/*kernel*/ void sgd_step(device float* param, device const float* grad,
                     device float* velocity, constant SgdArgs& a,
                     uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (i >= a.n) return;
  float g = grad[i] + a.weightDecay * param[i];
  if (a.momentum != 0.0f) {
    const float v = a.momentum * velocity[i] + (1.0f - a.dampening) * g;
    velocity[i] = v;
    g = a.nesterov ? g + a.momentum * v : v;
  }
  param[i] = param[i] - a.lr * g;
}

/*kernel*/ void adam_step(device float* param, device const float* grad,
                      device float* m, device float* v,
                      constant AdamArgs& a, uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (i >= a.n) return;
  float w = param[i];
  float g = grad[i];
  if (a.decoupled) w = w - a.lr * a.weightDecay * w;
  else g = g + a.weightDecay * w;
  const float mi = a.beta1 * m[i] + (1.0f - a.beta1) * g;
  const float vi = a.beta2 * v[i] + (1.0f - a.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = w - (a.lr * (mi / a.bias1)) / (sqrt(vi / a.bias2) + a.eps);
}
// ---- registrations (metal-emu pre-pass) ----
static const ::msl_emu::KernelRegistration inkling_emu_register_sgd_step("sgd_step", 4, "native/metal/optim.metal", 15, [](const ::msl_emu::BoundArgs& a) { sgd_step(::msl_emu::bind<device float*>(a, 0), ::msl_emu::bind<device const float*>(a, 1), ::msl_emu::bind<device float*>(a, 2), ::msl_emu::bind<constant SgdArgs&>(a, 3)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_adam_step("adam_step", 5, "native/metal/optim.metal", 28, [](const ::msl_emu::BoundArgs& a) { adam_step(::msl_emu::bind<device float*>(a, 0), ::msl_emu::bind<device const float*>(a, 1), ::msl_emu::bind<device float*>(a, 2), ::msl_emu::bind<device float*>(a, 3), ::msl_emu::bind<constant AdamArgs&>(a, 4)); });
