#line 1 "native/metal/reduce.metal"
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

/*kernel*/ void channel_sum_partial(device const float* x, device float* dst,
                                constant ChannelSumArgs& a,
                                uint2 group = ::msl_emu::builtin(::msl_emu::Builtin::ThreadgroupPositionInGrid),
                                uint tid = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInThreadgroup)) {
  INKLING_EMU_GROUP_SHARED float scratch[ink::kGroup / ink::kSimd];
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

/*kernel*/ void channel_sum_final(device const float* partial, device float* out,
                              constant ChannelSumArgs& a, uint c = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  if (c >= a.channels) return;
  float s = 0.0f;
  for (uint k = 0; k < a.chunks; k++) s += partial[c * a.chunks + k];
  out[c] = a.accumulate ? out[c] + s : s;
}

/*kernel*/ void argmax_rows(device const float* x, device int* out,
                        constant RowsArgs& a, uint group = ::msl_emu::builtin(::msl_emu::Builtin::ThreadgroupPositionInGrid),
                        uint sg = ::msl_emu::builtin(::msl_emu::Builtin::SimdgroupIndexInThreadgroup), uint lane = ::msl_emu::builtin(::msl_emu::Builtin::ThreadIndexInSimdgroup)) {
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

/*kernel*/ void count_equal(device const int* x, device const int* y,
                        device float* out, constant CountArgs& a,
                        uint tid = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInThreadgroup)) {
  INKLING_EMU_GROUP_SHARED uint scratch[ink::kGroup / ink::kSimd];
  uint count = 0;
  for (uint i = tid; i < a.n; i += ink::kGroup) count += x[i] == y[i] ? 1u : 0u;
  count = ink::groupSum(count, scratch, tid);
  if (tid == 0) out[0] = a.accumulate ? out[0] + float(count) : float(count);
}
// ---- registrations (metal-emu pre-pass) ----
static const ::msl_emu::KernelRegistration inkling_emu_register_channel_sum_partial("channel_sum_partial", 3, "native/metal/reduce.metal", 17, [](const ::msl_emu::BoundArgs& a) { channel_sum_partial(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<constant ChannelSumArgs&>(a, 2)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_channel_sum_final("channel_sum_final", 3, "native/metal/reduce.metal", 37, [](const ::msl_emu::BoundArgs& a) { channel_sum_final(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device float*>(a, 1), ::msl_emu::bind<constant ChannelSumArgs&>(a, 2)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_argmax_rows("argmax_rows", 3, "native/metal/reduce.metal", 46, [](const ::msl_emu::BoundArgs& a) { argmax_rows(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device int*>(a, 1), ::msl_emu::bind<constant RowsArgs&>(a, 2)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_count_equal("count_equal", 4, "native/metal/reduce.metal", 73, [](const ::msl_emu::BoundArgs& a) { count_equal(::msl_emu::bind<device const int*>(a, 0), ::msl_emu::bind<device const int*>(a, 1), ::msl_emu::bind<device float*>(a, 2), ::msl_emu::bind<constant CountArgs&>(a, 3)); });
