// Helpers for every .metal file: the threadgroup size the launchers use, and the fixed-order
// reductions built on simd_shuffle_down (Apple GPUs run 32-wide SIMD groups; the host refuses a
// pipeline whose threadExecutionWidth is not 32, see host/launch.h).
//
// Reductions are written as explicit shuffle trees rather than simd_sum so that the order of the
// additions is ours and fixed: the same inputs give the same bits on every run (and in the
// emulator, whose simd_sum would have to guess the hardware's order).
#pragma once
#include <metal_stdlib>
using namespace metal;

#include "args.h"

namespace ink {

constexpr constant uint kGroup = 256;  // threads per threadgroup of the 1-D kernels
constexpr constant uint kSimd = 32;

template <typename T>
inline T simdSumDown(T v) {
  for (ushort o = 16; o > 0; o >>= 1) v += simd_shuffle_down(v, o);
  return v;  // valid in lane 0
}

// Σ over a threadgroup of kGroup threads, fixed tree; result valid in thread 0. `scratch` holds
// kGroup / kSimd values. Every thread of the group must call it (it contains barriers).
template <typename T>
inline T groupSum(T v, threadgroup T* scratch, uint tid) {
  v = simdSumDown(v);
  threadgroup_barrier(mem_flags::mem_threadgroup);  // scratch may still be read by a previous call
  if (tid % kSimd == 0) scratch[tid / kSimd] = v;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  v = tid < kGroup / kSimd ? scratch[tid] : T(0);
  if (tid < kSimd) v = simdSumDown(v);
  return v;
}

}  // namespace ink
