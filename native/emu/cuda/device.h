// The device side of CUDA, as ordinary C++ over the SIMT core (native/emu/core/simt.h): qualifiers,
// the built-in index variables, vector types, bit casts, math and fast-math intrinsics, warp
// intrinsics with their mask checks, atomics, and the launch macro. Included (through the
// emulator's <cuda_runtime.h>) by the real kernel sources in native/cuda/, compiled by g++.
//
// Fidelity notes (native/emu/README.md has the full list):
// - expf, logf, sqrtf, powf... are the host's libm (correctly rounded or within 1 ulp); CUDA's
//   are within 1–2 ulp (sqrtf is correctly rounded with nvcc's default -prec-sqrt=true). nvcc
//   contracts a·b + c into an FMA by default; g++ on x86-64 without -mfma does not. Both differences
//   are last-bit effects, inside the conformance table's fp32 tolerance.
// - The fast-math intrinsics (__expf, __logf, __fdividef, ...) are computed here in double and
//   rounded: more exact than the hardware's approximations, whose documented error bounds the
//   tolerances must allow.
#pragma once
#include <cmath>
#include <cstdint>
#include <atomic>
#include <cstring>
#include <source_location>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/atomics.h"
#include "../core/simt.h"

#define INKLING_CUDA_EMU 1

// ---- qualifiers ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ INKLING_EMU_GROUP_SHARED
#define __constant__
#define __managed__

// ---- vector types (CUDA's alignments) ----
struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
struct __attribute__((aligned(8))) float2 {
  float x, y;
};
struct __attribute__((aligned(16))) float4 {
  float x, y, z, w;
};
struct __attribute__((aligned(8))) int2 {
  int x, y;
};
struct __attribute__((aligned(16))) int4 {
  int x, y, z, w;
};
struct __attribute__((aligned(8))) uint2 {
  unsigned int x, y;
};
struct __attribute__((aligned(16))) uint4 {
  unsigned int x, y, z, w;
};
struct __attribute__((aligned(16))) double2 {
  double x, y;
};
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline int2 make_int2(int x, int y) { return int2{x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return uint3{x, y, z}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline double2 make_double2(double x, double y) { return double2{x, y}; }

namespace inkling::emu::cuda {

inline uint3 toUint3(const Dim3& d) { return uint3{d.x, d.y, d.z}; }
inline uint3 builtinThreadIdx() { return toUint3(self().thread); }
inline uint3 builtinBlockIdx() { return toUint3(self().block); }
inline dim3 builtinBlockDim() { return dim3(toUint3(self().blockDim)); }
inline dim3 builtinGridDim() { return dim3(toUint3(self().gridDim)); }
inline unsigned laneId() { return self().lane; }

}  // namespace inkling::emu::cuda

// ---- built-in variables ----
#define threadIdx (::inkling::emu::cuda::builtinThreadIdx())
#define blockIdx (::inkling::emu::cuda::builtinBlockIdx())
#define blockDim (::inkling::emu::cuda::builtinBlockDim())
#define gridDim (::inkling::emu::cuda::builtinGridDim())
constexpr int warpSize = 32;

// ---- memory ----
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

// ---- bit casts ----
inline float __int_as_float(int v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline int __float_as_int(float f) {
  int v;
  std::memcpy(&v, &f, 4);
  return v;
}
inline float __uint_as_float(unsigned v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline unsigned __float_as_uint(float f) {
  unsigned v;
  std::memcpy(&v, &f, 4);
  return v;
}
inline double __longlong_as_double(long long v) {
  double d;
  std::memcpy(&d, &v, 8);
  return d;
}
inline long long __double_as_longlong(double d) {
  long long v;
  std::memcpy(&v, &d, 8);
  return v;
}

// ---- integer intrinsics ----
inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32); }
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v)); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline unsigned __brev(unsigned v) {
  v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
  v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
  v = ((v >> 4) & 0x0f0f0f0fu) | ((v & 0x0f0f0f0fu) << 4);
  v = ((v >> 8) & 0x00ff00ffu) | ((v & 0x00ff00ffu) << 8);
  return (v >> 16) | (v << 16);
}

// ---- min/max as CUDA's math headers overload them for device code ----
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// ---- fast-math intrinsics (CUDA Math API, "Single Precision Intrinsics"): computed in double
// and rounded, i.e. more exact than the hardware (see the header comment) ----
inline float __expf(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }
inline float __exp10f(float x) { return static_cast<float>(std::pow(10.0, static_cast<double>(x))); }
inline float __logf(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }
inline float __log2f(float x) { return static_cast<float>(std::log2(static_cast<double>(x))); }
inline float __log10f(float x) { return static_cast<float>(std::log10(static_cast<double>(x))); }
inline float __powf(float x, float y) { return static_cast<float>(std::pow(static_cast<double>(x), static_cast<double>(y))); }
inline float __sinf(float x) { return static_cast<float>(std::sin(static_cast<double>(x))); }
inline float __cosf(float x) { return static_cast<float>(std::cos(static_cast<double>(x))); }
inline float __tanf(float x) { return static_cast<float>(std::tan(static_cast<double>(x))); }
/** CUDA: for 2^126 < |y| < 2^128 __fdividef returns 0; otherwise x/y within 2 ulp. */
inline float __fdividef(float x, float y) {
  const float ay = std::fabs(y);
  if (ay > 0x1p126f && ay < INFINITY) return std::isinf(x) ? NAN : 0.0f;
  return static_cast<float>(static_cast<double>(x) / static_cast<double>(y));
}
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __frsqrt_rn(float x) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(x))); }
inline float rsqrtf(float x) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(x))); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __saturatef(float x) { return x != x ? 0.0f : (x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x)); }

// ---- warp intrinsics: each a collective of the core, which checks the mask ----
namespace inkling::emu::cuda {

enum ShuffleMode : uint32_t { kShflIdx = 0, kShflUp = 1, kShflDown = 2, kShflXor = 3 };
enum VoteMode : uint32_t { kVoteBallot = 0, kVoteAny = 1, kVoteAll = 2 };

/** PTX shfl.sync: source lane j and whether it is in range, for mode, b (lane/offset/mask) and the
 *  clamp/segment value c = ((32 − width) << 8) | (mode == up ? 0 : 31), as CUDA's headers pass it. */
inline uint32_t shuffleSource(uint32_t mode, uint32_t lane, uint32_t b, uint32_t width, bool* inRange) {
  const uint32_t c = ((32u - width) << 8) | (mode == kShflUp ? 0u : 31u);
  const uint32_t segmask = (c >> 8) & 31u;
  const uint32_t maxLane = (lane & segmask) | (c & 31u & ~segmask);
  const uint32_t minLane = lane & segmask;
  int32_t j = 0;
  bool p = false;
  switch (mode) {
    case kShflUp: j = static_cast<int32_t>(lane) - static_cast<int32_t>(b); p = j >= static_cast<int32_t>(maxLane); break;
    case kShflDown: j = static_cast<int32_t>(lane + b); p = j <= static_cast<int32_t>(maxLane); break;
    case kShflXor: j = static_cast<int32_t>(lane ^ b); p = j <= static_cast<int32_t>(maxLane); break;
    default: j = static_cast<int32_t>(minLane | (b & 31u & ~segmask)); p = j <= static_cast<int32_t>(maxLane); break;
  }
  *inRange = p;
  return p ? static_cast<uint32_t>(j) : lane;
}

template <class T>
T shuffle(uint32_t mode, const char* name, unsigned mask, T var, int b, int width, SourceSite site) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 16, "shuffle of a type CUDA does not shuffle");
  if (width <= 0 || width > 32 || (width & (width - 1))) fail(std::string(name) + ": width must be a power of two in 1..32", site);
  T all[kWarpSize];
  bool inRange = false;
  const uint32_t lane = self().lane;
  const uint32_t src = shuffleSource(mode, lane, static_cast<uint32_t>(b), static_cast<uint32_t>(width), &inRange);
  warpExchange(Collective{CollectiveKind::Shuffle, mode, mask, site, false, name}, &var, sizeof(T), all, 1u << src);
  if (!(mask & (1u << src))) {
    fail(std::string(name) + ": lane " + std::to_string(lane) + " reads lane " + std::to_string(src) +
             ", which is not in the mask (its value is undefined on the hardware)",
         site);
  }
  return all[src];
}

inline unsigned vote(uint32_t mode, const char* name, unsigned mask, int predicate, SourceSite site) {
  int all[kWarpSize];
  warpExchange(Collective{CollectiveKind::Vote, mode, mask, site, false, name}, &predicate, sizeof predicate, all);
  unsigned ballot = 0;
  for (uint32_t l = 0; l < kWarpSize; l++)
    if ((mask & (1u << l)) && all[l]) ballot |= 1u << l;
  if (mode == kVoteBallot) return ballot;
  if (mode == kVoteAny) return ballot != 0;
  return ballot == mask;
}

inline void syncwarp(SourceSite site, unsigned mask = 0xffffffffu) {
  char all[kWarpSize];
  char none = 0;
  warpExchange(Collective{CollectiveKind::Sync, 0, mask, site, false, "__syncwarp"}, &none, 1, all);
}

enum ReduceOp : uint32_t { kReduceAdd = 0, kReduceMin, kReduceMax, kReduceAnd, kReduceOr, kReduceXor };

template <class T>
T reduce(uint32_t op, const char* name, unsigned mask, T value, SourceSite site) {
  T all[kWarpSize];
  warpExchange(Collective{CollectiveKind::Reduce, op, mask, site, false, name}, &value, sizeof(T), all);
  bool first = true;
  T r{};
  for (uint32_t l = 0; l < kWarpSize; l++) {
    if (!(mask & (1u << l))) continue;
    const T v = all[l];
    if (first) r = v;
    else if (op == kReduceAdd) r = static_cast<T>(r + v);
    else if (op == kReduceMin) r = v < r ? v : r;
    else if (op == kReduceMax) r = v > r ? v : r;
    else if (op == kReduceAnd) r = r & v;
    else if (op == kReduceOr) r = r | v;
    else r = r ^ v;
    first = false;
  }
  return r;
}

/** All 32 lanes, the same call site (PTX .aligned): every lane gets every lane's `mine`. For the
 *  C++ twins of warp-wide PTX (mma.sync). */
template <class T>
void warpExchangeAligned(const char* name, const T& mine, T (&all)[kWarpSize], SourceSite site) {
  warpExchange(Collective{CollectiveKind::Matrix, 0, 0xffffffffu, site, true, name}, &mine, sizeof(T), all);
}

}  // namespace inkling::emu::cuda

inline ::inkling::emu::SourceSite inklingEmuSite(const std::source_location& l) {
  return ::inkling::emu::SourceSite{l.file_name(), static_cast<int>(l.line())};
}
template <class T>
inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = 32, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::shuffle(::inkling::emu::cuda::kShflIdx, "__shfl_sync", mask, var, srcLane, width, inklingEmuSite(l));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::shuffle(::inkling::emu::cuda::kShflUp, "__shfl_up_sync", mask, var, static_cast<int>(delta), width, inklingEmuSite(l));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::shuffle(::inkling::emu::cuda::kShflDown, "__shfl_down_sync", mask, var, static_cast<int>(delta), width, inklingEmuSite(l));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = 32, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::shuffle(::inkling::emu::cuda::kShflXor, "__shfl_xor_sync", mask, var, laneMask, width, inklingEmuSite(l));
}
inline unsigned __ballot_sync(unsigned mask, int predicate, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::vote(::inkling::emu::cuda::kVoteBallot, "__ballot_sync", mask, predicate != 0, inklingEmuSite(l));
}
inline int __any_sync(unsigned mask, int predicate, std::source_location l = std::source_location::current()) {
  return static_cast<int>(::inkling::emu::cuda::vote(::inkling::emu::cuda::kVoteAny, "__any_sync", mask, predicate != 0, inklingEmuSite(l)));
}
inline int __all_sync(unsigned mask, int predicate, std::source_location l = std::source_location::current()) {
  return static_cast<int>(::inkling::emu::cuda::vote(::inkling::emu::cuda::kVoteAll, "__all_sync", mask, predicate != 0, inklingEmuSite(l)));
}
/** The lanes of the warp that have not exited (the emulator has no divergent-but-live lanes). */
inline unsigned __activemask() { return ::inkling::emu::liveLanes(); }
template <class T>
inline T __reduce_add_sync(unsigned mask, T v, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::reduce(::inkling::emu::cuda::kReduceAdd, "__reduce_add_sync", mask, v, inklingEmuSite(l));
}
template <class T>
inline T __reduce_min_sync(unsigned mask, T v, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::reduce(::inkling::emu::cuda::kReduceMin, "__reduce_min_sync", mask, v, inklingEmuSite(l));
}
template <class T>
inline T __reduce_max_sync(unsigned mask, T v, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::reduce(::inkling::emu::cuda::kReduceMax, "__reduce_max_sync", mask, v, inklingEmuSite(l));
}
inline unsigned __reduce_and_sync(unsigned mask, unsigned v, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::reduce(::inkling::emu::cuda::kReduceAnd, "__reduce_and_sync", mask, v, inklingEmuSite(l));
}
inline unsigned __reduce_or_sync(unsigned mask, unsigned v, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::reduce(::inkling::emu::cuda::kReduceOr, "__reduce_or_sync", mask, v, inklingEmuSite(l));
}
inline unsigned __reduce_xor_sync(unsigned mask, unsigned v, std::source_location l = std::source_location::current()) {
  return ::inkling::emu::cuda::reduce(::inkling::emu::cuda::kReduceXor, "__reduce_xor_sync", mask, v, inklingEmuSite(l));
}

// ---- synchronisation (the call site is the barrier's identity: source_location) ----
inline void __syncthreads(std::source_location l = std::source_location::current()) {
  ::inkling::emu::barrier(::inkling::emu::SourceSite{l.file_name(), static_cast<int>(l.line())});
}
inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location l = std::source_location::current()) {
  ::inkling::emu::cuda::syncwarp(::inkling::emu::SourceSite{l.file_name(), static_cast<int>(l.line())}, mask);
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
[[noreturn]] inline void __trap(std::source_location l = std::source_location::current()) {
  ::inkling::emu::fail("__trap() was executed", ::inkling::emu::SourceSite{l.file_name(), static_cast<int>(l.line())});
}

// ---- atomics (return the old value) ----
template <class T>
inline T atomicAdd(T* p, T v) {
  return ::inkling::emu::atomicFetchAdd(p, v);
}
template <class T>
inline T atomicSub(T* p, T v) {
  return ::inkling::emu::atomicFetchSub(p, v);
}
template <class T>
inline T atomicExch(T* p, T v) {
  return ::inkling::emu::atomicExchange(p, v);
}
template <class T>
inline T atomicMin(T* p, T v) {
  return ::inkling::emu::atomicFetchMin(p, v);
}
template <class T>
inline T atomicMax(T* p, T v) {
  return ::inkling::emu::atomicFetchMax(p, v);
}
template <class T>
inline T atomicAnd(T* p, T v) {
  return ::inkling::emu::atomicFetchAnd(p, v);
}
template <class T>
inline T atomicOr(T* p, T v) {
  return ::inkling::emu::atomicFetchOr(p, v);
}
template <class T>
inline T atomicXor(T* p, T v) {
  return ::inkling::emu::atomicFetchXor(p, v);
}
template <class T>
inline T atomicCAS(T* p, T compare, T value) {
  return ::inkling::emu::atomicCompareExchange(p, compare, value);
}

// ---- dynamic shared memory: INKLING_DYNAMIC_SHARED(float, tile) in a kernel body ----
#define INKLING_EMU_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(::inkling::emu::dynamicGroupShared())
