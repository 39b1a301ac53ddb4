// Deterministic reductions: channelSum (bias gradients), argmax, countEqual.
//
// channelSum, x viewed [outer, channels, inner], out[c] (+)= Σ_{o,i} x[o, c, i]:
//   pass 1 (channel_sum_partial): grid (channels, chunks) of 256-thread groups; group (c, chunk)
//          sums a fixed contiguous slice of channel c's outer·inner values (thread-strided, then
//          the fixed shuffle tree of ink::groupSum); with one chunk it writes out directly
//   pass 2 (channel_sum_final): one thread per channel adds its chunk partials in chunk order.
//   The partition depends on the shape only (host/launch.cc), so the bits never change. No atomics.
// argmax: one SIMD group per row, the first index of the maximum (lowest index wins ties).
// countEqual: one threadgroup counts a[i] == b[i] in integers (exact), thread 0 adds to out[0].
// Same algorithms as native/cuda/reduce.cu; reference src/nn/backends/ref/elementwise.ts.
#include "common.h"

kernel void channel_sum_partial(device const float* x [[buffer(0)]], device float* dst [[buffer(1)]],
                                constant ChannelSumArgs& a [[buffer(2)]],
                                uint2 group [[threadgroup_position_in_grid]],
                                uint tid [[thread_position_in_threadgroup]]) {
  threadgroup float scratch[ink::kGroup / ink::kSimd];
  const uint c = group.x, chunk = group.y;
  const ulong per = ulong(a.outer) * a.inner;
  const ulong chunkLen = (per + a.chunks - 1) / a.chunks;
  const ulong begin = chunk * chunkLen;
  const ulong end = min(per, begin + chunkLen);
  float s = 0.0f;
  for (ulong j = begin + tid; j < end; j += ink::kGroup) {
    const ulong o = j / a.inner, i = j - o * a.inner;
    s += x[(o * a.channels + c) * a.inner + i];
  }
  s = ink::groupSum(s, scratch, tid);
  if (tid == 0) {
    if (a.chunks == 1) dst[c] = a.accumulate ? dst[c] + s : s;
    else dst[c * a.chunks + chunk] = s;
  }
}

kernel void channel_sum_final(device const float* partial [[buffer(0)]], device float* out [[buffer(1)]],
                              constant ChannelSumArgs& a [[buffer(2)]], uint c [[thread_position_in_grid]]) {
  if (c >= a.channels) return;
  float s = 0.0f;
  for (uint k = 0; k < a.chunks; k++) s += partial[c * a.chunks + k];
  out[c] = a.accumulate ? out[c] + s : s;
}

kernel void argmax_rows(device const float* x [[buffer(0)]], device int* out [[buffer(1)]],
                        constant RowsArgs& a [[buffer(2)]], uint group [[threadgroup_position_in_grid]],
                        uint sg [[simdgroup_index_in_threadgroup]], uint lane [[thread_index_in_simdgroup]]) {
  const uint row = group * (ink::kGroup / ink::kSimd) + sg;
  if (row >= a.rows) return;  // the whole SIMD group leaves together
  device const float* r = x + ulong(row) * a.cols;
  float best = -INFINITY;
  int bestIndex = -1;
  for (uint j = lane; j < a.cols; j += ink::kSimd) {
    const float v = r[j];
    if (bestIndex < 0 || v > best) {
      best = v;
      bestIndex = int(j);
    }
  }
  // Merge lanes: larger value wins, the lower index on ties, a lane with nothing loses.
  for (ushort o = 16; o > 0; o >>= 1) {
    const float ov = simd_shuffle_down(best, o);
    const int oi = simd_shuffle_down(bestIndex, o);
    if (oi >= 0 && (bestIndex < 0 || ov > best || (ov == best && oi < bestIndex))) {
      best = ov;
      bestIndex = oi;
    }
  }
  if (lane == 0) out[row] = bestIndex < 0 ? 0 : bestIndex;
}

kernel void count_equal(device const int* x [[buffer(0)]], device const int* y [[buffer(1)]],
                        device float* out [[buffer(2)]], constant CountArgs& a [[buffer(3)]],
                        uint tid [[thread_position_in_threadgroup]]) {
  threadgroup uint scratch[ink::kGroup / ink::kSimd];
  uint count = 0;
  for (uint i = tid; i < a.n; i += ink::kGroup) count += x[i] == y[i] ? 1u : 0u;
  count = ink::groupSum(count, scratch, tid);
  if (tid == 0) out[0] = a.accumulate ? out[0] + float(count) : float(count);
}
