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

kernel void sgd_step(device float* param [[buffer(0)]], device const float* grad [[buffer(1)]],
                     device float* velocity [[buffer(2)]], constant SgdArgs& a [[buffer(3)]],
                     uint i [[thread_position_in_grid]]) {
  if (i >= a.n) return;
  float g = grad[i] + a.weightDecay * param[i];
  if (a.momentum != 0.0f) {
    const float v = a.momentum * velocity[i] + (1.0f - a.dampening) * g;
    velocity[i] = v;
    g = a.nesterov ? g + a.momentum * v : v;
  }
  param[i] = param[i] - a.lr * g;
}

kernel void adam_step(device float* param [[buffer(0)]], device const float* grad [[buffer(1)]],
                      device float* m [[buffer(2)]], device float* v [[buffer(3)]],
                      constant AdamArgs& a [[buffer(4)]], uint i [[thread_position_in_grid]]) {
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
