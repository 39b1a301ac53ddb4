// Batch normalisation (2d: spatial = H·W; 1d: spatial = 1), x viewed [n, c, spatial], per channel
// over N' = n·spatial values (formulas in src/nn/backends/ref/batchnorm.ts, the reference):
//   train:     mean, biased var → invStd = 1/sqrt(var + eps); y = act(γ·(x − mean)·invStd + β);
//              running mean/var updated with momentum (unbiased var); mean and invStd saved
//   inference: the same with the running statistics (BN+ReLU fused, one pass)
//   backward:  dx = γ·invStd/N'·(N'·dy − Σdy − x̂·Σ(dy·x̂)); dγ (+)= Σdy·x̂; dβ (+)= Σdy
// Kernels (as native/cuda/batchnorm.cu):
//   bn_stats_partial  grid (c, chunks): Welford (count, mean, M2) per thread, merged by a fixed
//                     shuffle tree (Chan et al.): one read of x, no Σx² − (Σx)²/N cancellation
//   bn_stats_final    one thread per channel merges its chunks in order, writes mean/invStd and
//                     the running statistics
//   bn_apply          elementwise normalise + γ/β + optional ReLU
//   bn_grad_partial / bn_grad_final: Σdy and Σdy·x̂ the same two-pass way; bn_input_grad elementwise
// Deterministic: fixed partition and merge order, no atomics.
#include "common.h"

namespace ink {

struct Welford {
  float n, mean, m2;
};

inline Welford merge(Welford a, Welford b) {
  const float n = a.n + b.n;
  if (n == 0.0f) return a;
  const float d = b.mean - a.mean;
  const float fb = b.n / n;
  return Welford{n, a.mean + d * fb, a.m2 + b.m2 + d * d * a.n * fb};
}

inline Welford simdMergeDown(Welford w) {
  for (ushort o = 16; o > 0; o >>= 1) {
    const Welford other{simd_shuffle_down(w.n, o), simd_shuffle_down(w.mean, o), simd_shuffle_down(w.m2, o)};
    w = merge(w, other);
  }
  return w;
}

// Flat index of element j of channel c's N' values: o = j / spatial, s = j % spatial.
inline ulong bnIndex(uint j, uint c, constant BnArgs& a) {
  const uint o = j / a.spatial;
  return (ulong(o) * a.c + c) * a.spatial + (j - o * a.spatial);
}

inline void chunkRange(constant BnArgs& a, uint chunk, thread uint& begin, thread uint& end) {
  const uint per = a.n * a.spatial;
  const uint len = (per + a.chunks - 1) / a.chunks;
  begin = chunk * len;
  end = min(per, begin + len);
}

}  // namespace ink

kernel void bn_stats_partial(device const float* x [[buffer(0)]], device float* partial [[buffer(1)]],
                             constant BnArgs& a [[buffer(2)]], uint2 group [[threadgroup_position_in_grid]],
                             uint tid [[thread_position_in_threadgroup]]) {
  threadgroup ink::Welford parts[ink::kGroup / ink::kSimd];
  const uint c = group.x, chunk = group.y;
  uint begin, end;
  ink::chunkRange(a, chunk, begin, end);
  ink::Welford w{0.0f, 0.0f, 0.0f};
  for (uint j = begin + tid; j < end; j += ink::kGroup) {
    const float v = x[ink::bnIndex(j, c, a)];
    w.n += 1.0f;
    const float d = v - w.mean;
    w.mean += d / w.n;
    w.m2 += d * (v - w.mean);
  }
  w = ink::simdMergeDown(w);
  if (tid % ink::kSimd == 0) parts[tid / ink::kSimd] = w;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (tid < ink::kSimd) {
    w = tid < ink::kGroup / ink::kSimd ? parts[tid] : ink::Welford{0.0f, 0.0f, 0.0f};
    w = ink::simdMergeDown(w);
    if (tid == 0) {
      device float* p = partial + 3 * (ulong(c) * a.chunks + chunk);
      p[0] = w.n;
      p[1] = w.mean;
      p[2] = w.m2;
    }
  }
}

kernel void bn_stats_final(device const float* partial [[buffer(0)]], device float* runningMean [[buffer(1)]],
                           device float* runningVar [[buffer(2)]], device float* saveMean [[buffer(3)]],
                           device float* saveInvStd [[buffer(4)]], constant BnArgs& a [[buffer(5)]],
                           uint c [[thread_position_in_grid]]) {
  if (c >= a.c) return;
  device const float* p = partial + 3 * ulong(c) * a.chunks;
  ink::Welford w{p[0], p[1], p[2]};
  for (uint k = 1; k < a.chunks; k++) w = ink::merge(w, ink::Welford{p[3 * k], p[3 * k + 1], p[3 * k + 2]});
  const float per = float(a.n * a.spatial);
  const float var = w.m2 / per;
  saveMean[c] = w.mean;
  saveInvStd[c] = 1.0f / sqrt(var + a.eps);
  runningMean[c] = (1.0f - a.momentum) * runningMean[c] + a.momentum * w.mean;
  runningVar[c] = (1.0f - a.momentum) * runningVar[c] + a.momentum * var * (per / (per - 1.0f));
}

// y = act(γ·(x − mean)·invStd + β); in inference mode `scale` is running_var and invStd is computed.
kernel void bn_apply(device const float* x [[buffer(0)]], device const float* gamma [[buffer(1)]],
                     device const float* beta [[buffer(2)]], device const float* mean [[buffer(3)]],
                     device const float* scale [[buffer(4)]], device float* out [[buffer(5)]],
                     constant BnArgs& a [[buffer(6)]], uint i [[thread_position_in_grid]]) {
  const uint total = a.n * a.c * a.spatial;
  if (i >= total) return;
  const uint c = (i / a.spatial) % a.c;
  const float invStd = a.inference ? 1.0f / sqrt(scale[c] + a.eps) : scale[c];
  float v = gamma[c] * (x[i] - mean[c]) * invStd + beta[c];
  if (a.relu) v = v > 0.0f ? v : 0.0f;
  out[i] = v;
}

kernel void bn_grad_partial(device const float* x [[buffer(0)]], device const float* dy [[buffer(1)]],
                            device const float* mean [[buffer(2)]], device const float* invStd [[buffer(3)]],
                            device float* partial [[buffer(4)]], constant BnArgs& a [[buffer(5)]],
                            uint2 group [[threadgroup_position_in_grid]], uint tid [[thread_position_in_threadgroup]]) {
  threadgroup float scratch[ink::kGroup / ink::kSimd];
  const uint c = group.x, chunk = group.y;
  uint begin, end;
  ink::chunkRange(a, chunk, begin, end);
  const float mu = mean[c], is = invStd[c];
  float sdy = 0.0f, sdyx = 0.0f;
  for (uint j = begin + tid; j < end; j += ink::kGroup) {
    const ulong i = ink::bnIndex(j, c, a);
    const float g = dy[i];
    sdy += g;
    sdyx += g * (x[i] - mu) * is;
  }
  sdy = ink::groupSum(sdy, scratch, tid);
  sdyx = ink::groupSum(sdyx, scratch, tid);
  if (tid == 0) {
    partial[2 * (ulong(c) * a.chunks + chunk)] = sdy;
    partial[2 * (ulong(c) * a.chunks + chunk) + 1] = sdyx;
  }
}

kernel void bn_grad_final(device const float* partial [[buffer(0)]], device float* sums [[buffer(1)]],
                          device float* dgamma [[buffer(2)]], device float* dbeta [[buffer(3)]],
                          constant BnArgs& a [[buffer(4)]], uint c [[thread_position_in_grid]]) {
  if (c >= a.c) return;
  float sdy = 0.0f, sdyx = 0.0f;
  for (uint k = 0; k < a.chunks; k++) {
    sdy += partial[2 * (ulong(c) * a.chunks + k)];
    sdyx += partial[2 * (ulong(c) * a.chunks + k) + 1];
  }
  sums[2 * c] = sdy;
  sums[2 * c + 1] = sdyx;
  dgamma[c] = a.accumulate ? dgamma[c] + sdyx : sdyx;
  dbeta[c] = a.accumulate ? dbeta[c] + sdy : sdy;
}

kernel void bn_input_grad(device const float* x [[buffer(0)]], device const float* dy [[buffer(1)]],
                          device const float* gamma [[buffer(2)]], device const float* mean [[buffer(3)]],
                          device const float* invStd [[buffer(4)]], device const float* sums [[buffer(5)]],
                          device float* dx [[buffer(6)]], constant BnArgs& a [[buffer(7)]],
                          uint i [[thread_position_in_grid]]) {
  const uint total = a.n * a.c * a.spatial;
  if (i >= total) return;
  const uint c = (i / a.spatial) % a.c;
  const float count = float(a.n * a.spatial);
  const float is = invStd[c];
  const float xhat = (x[i] - mean[c]) * is;
  const float g = gamma[c] * is / count * (count * dy[i] - sums[2 * c] - xhat * sums[2 * c + 1]);
  dx[i] = g;  // always overwritten (the contract); accumulate applies to dγ and dβ only
}
