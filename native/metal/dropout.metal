// dropout / dropout2d, forward and backward, from the counter hash of src/nn/dropout-rng.ts
// (bit-exact with every other backend: 32-bit wrapping multiplies, logical shifts):
//   key  = lowbias32(seed ^ step·0x85EBCA6B)
//   bits = lowbias32(counter·0x9E3779B1 ^ key),  counter = i / spatial
//   keep ⇔ (bits >> 8) >= keepThreshold = ceil(p·2^24)   (an integer compare, computed on the host)
//   out (+)= keep ? x·keepScale : 0
// Nothing is stored between forward and backward: the backward pass redraws the same mask.
// One thread per element. Reference: src/nn/backends/ref/dropout.ts (the mask must match exactly).
#include "common.h"

namespace ink {
inline uint lowbias32(uint x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
}  // namespace ink

kernel void dropout_f32(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                        constant DropoutArgs& a [[buffer(2)]], uint i [[thread_position_in_grid]]) {
  if (i >= a.n) return;
  const uint key = ink::lowbias32(a.seed ^ (a.step * 0x85ebca6bu));
  const uint counter = i / a.spatial;
  const uint bits = ink::lowbias32((counter * 0x9e3779b1u) ^ key);
  const float v = (bits >> 8) >= a.keepThreshold ? x[i] * a.keepScale : 0.0f;
  out[i] = a.accumulate ? out[i] + v : v;
}
