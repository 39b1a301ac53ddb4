// The Metal Shading Language as ordinary C++ over the SIMT core (native/emu/core/simt.h), so that
// the real native/metal/*.metal sources compile with g++ and run on the emulator (metal-emu).
// Included through include/metal_stdlib, after the sources went through the line-preserving
// pre-pass of scripts/metal-emu/prepass.mjs, which rewrites what no macro can:
//   - `threadgroup` in a kernel body → INKLING_EMU_GROUP_SHARED (static, one copy: groups run one
//     at a time; poisoned with NaN before every group); in a parameter list or cast it vanishes;
//   - `[[buffer(n)]]` vanishes (the dispatcher binds buffers by position); a built-in input such as
//     `uint i [[thread_position_in_grid]]` becomes a default argument `= ::msl_emu::builtin(...)`,
//     evaluated per thread when the dispatcher calls the kernel with its buffers only;
//   - after each kernel, a registration that lets the dispatcher call it by name.
// Here: the address-space qualifiers (defined last, after every standard header, because
// `thread`/`device`/`constant` are also names in the standard library), the scalar and vector
// types (GLM with GLM_FORCE_SWIZZLE: MSL-style constructors and `.xy` swizzles; GLM has no half
// vectors, so there are none), math, barriers, SIMD-group functions and simdgroup_matrix.
//
// Fidelity (what the emulator assumes of the hardware; native/metal/README.md lists them too):
// - SIMD groups are 32 lanes (every Apple GPU); SIMD-group functions take part with the lanes of
//   the group that have not returned, and those must all reach the same call (the emulator has no
//   divergent-but-active lanes): a kernel must keep SIMD-group control flow uniform around them.
// - simd_shuffle_down/up/xor with a source lane outside the group return the caller's own value.
// - simdgroup_matrix: each lane holds 2 of the 64 elements of an 8×8 matrix (Apple does not
//   document its distribution); multiply-accumulate and store are collectives of the whole SIMD
//   group, load reads each lane's own elements (all three fail if a lane of the group has
//   returned), and every element has exactly one writer lane in store, so ThreadSanitizer sees no
//   race between lanes. The product accumulates in fp32
//   with one fused multiply-add per term, k in order.
// - exp, log, sqrt... are the host's libm, correctly rounded or within 1 ulp; Metal's are within
//   the MSL spec's bounds (fast math is off in the addon). Last-bit effects, inside the tolerances.
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <source_location>
#include <string>
#include <type_traits>
#include <vector>

#define GLM_FORCE_SWIZZLE
#define GLM_FORCE_INTRINSICS  // member swizzles (v.xy) need GLM's SIMD path on g++ and clang
#include <glm/glm.hpp>

#include "../core/atomics.h"
#include "../core/simt.h"
#include "msl_registry.h"

#define INKLING_METAL_EMU 1

namespace metal {

using uint = uint32_t;
using ushort = uint16_t;
using uchar = uint8_t;
using ulong = uint64_t;
using half = _Float16;

using float2 = glm::vec2;
using float3 = glm::vec3;
using float4 = glm::vec4;
using int2 = glm::ivec2;
using int3 = glm::ivec3;
using int4 = glm::ivec4;
using uint2 = glm::uvec2;
using uint3 = glm::uvec3;
using uint4 = glm::uvec4;
using ulong2 = glm::vec<2, uint64_t>;

// ---- math (MSL's overloads for float) ----
using std::ceil;
using std::cos;
using std::exp;
using std::exp2;
using std::fabs;
using std::floor;
using std::fma;
using std::fmax;
using std::fmin;
using std::isinf;
using std::isnan;
using std::log;
using std::log2;
using std::pow;
using std::round;
using std::sin;
using std::sqrt;
using std::tanh;
template <class T>
inline T min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
inline T max(T a, T b) {
  return a < b ? b : a;
}
template <class T>
inline T clamp(T x, T lo, T hi) {
  return min(max(x, lo), hi);
}
inline float rsqrt(float x) { return 1.0f / std::sqrt(x); }
inline float precise_divide(float a, float b) { return a / b; }
inline uint mulhi(uint a, uint b) { return uint((uint64_t(a) * b) >> 32); }
template <class T, class U>
inline T as_type(U v) {
  static_assert(sizeof(T) == sizeof(U), "as_type between types of different sizes");
  T t;
  std::memcpy(&t, &v, sizeof t);
  return t;
}

// ---- synchronisation ----
enum class mem_flags : uint32_t { mem_none = 0, mem_device = 1, mem_threadgroup = 2, mem_texture = 4 };

inline ::inkling::emu::SourceSite site(const std::source_location& l) {
  return ::inkling::emu::SourceSite{l.file_name(), int(l.line())};
}

/** MSL threadgroup_barrier: the core's block barrier (same call site for every thread). */
inline void threadgroup_barrier(mem_flags, std::source_location l = std::source_location::current()) {
  ::inkling::emu::barrier(site(l));
}

namespace detail {
using ::inkling::emu::Collective;
using ::inkling::emu::CollectiveKind;
using ::inkling::emu::kWarpSize;

enum ShuffleMode : uint32_t { kIdx = 0, kUp = 1, kDown = 2, kXor = 3 };
enum ReduceOp : uint32_t { kSum = 0, kMin = 1, kMax = 2 };

template <class T>
T shuffle(uint32_t mode, const char* name, T value, uint32_t b, std::source_location l) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 16, "SIMD-group shuffle of an unsupported type");
  const uint32_t mask = ::inkling::emu::liveLanes();
  T all[kWarpSize];
  ::inkling::emu::warpExchange(Collective{CollectiveKind::Shuffle, mode, mask, site(l), false, name}, &value, sizeof(T), all);
  const uint32_t lane = ::inkling::emu::self().lane;
  int64_t src = lane;
  switch (mode) {
    case kUp: src = int64_t(lane) - b; break;
    case kDown: src = int64_t(lane) + b; break;
    case kXor: src = int64_t(lane ^ b); break;
    default: src = b; break;
  }
  if (src < 0 || src >= int64_t(kWarpSize)) return value;  // outside the group: the caller's own value
  if (!(mask & (1u << src))) {
    ::inkling::emu::fail(std::string(name) + ": lane " + std::to_string(lane) + " reads lane " + std::to_string(src) +
                             ", which has returned (its value is undefined on the hardware)",
                         site(l));
  }
  return all[src];
}

template <class T>
T reduce(uint32_t op, const char* name, T value, std::source_location l) {
  const uint32_t mask = ::inkling::emu::liveLanes();
  T all[kWarpSize];
  ::inkling::emu::warpExchange(Collective{CollectiveKind::Reduce, op, mask, site(l), false, name}, &value, sizeof(T), all);
  bool first = true;
  T r{};
  for (uint32_t lane = 0; lane < kWarpSize; lane++) {  // lane order: deterministic
    if (!(mask & (1u << lane))) continue;
    const T v = all[lane];
    r = first ? v : op == kSum ? T(r + v) : op == kMin ? (v < r ? v : r) : (r < v ? v : r);
    first = false;
  }
  return r;
}
}  // namespace detail

inline void simdgroup_barrier(mem_flags, std::source_location l = std::source_location::current()) {
  char none = 0, all[detail::kWarpSize];
  ::inkling::emu::warpExchange(detail::Collective{detail::CollectiveKind::Sync, 0, ::inkling::emu::liveLanes(), site(l), false,
                                                  "simdgroup_barrier"},
                               &none, 1, all);
}

template <class T>
inline T simd_shuffle(T v, ushort lane, std::source_location l = std::source_location::current()) {
  return detail::shuffle(detail::kIdx, "simd_shuffle", v, lane, l);
}
template <class T>
inline T simd_broadcast(T v, ushort lane, std::source_location l = std::source_location::current()) {
  return detail::shuffle(detail::kIdx, "simd_broadcast", v, lane, l);
}
template <class T>
inline T simd_shuffle_down(T v, ushort delta, std::source_location l = std::source_location::current()) {
  return detail::shuffle(detail::kDown, "simd_shuffle_down", v, delta, l);
}
template <class T>
inline T simd_shuffle_up(T v, ushort delta, std::source_location l = std::source_location::current()) {
  return detail::shuffle(detail::kUp, "simd_shuffle_up", v, delta, l);
}
template <class T>
inline T simd_shuffle_xor(T v, ushort mask, std::source_location l = std::source_location::current()) {
  return detail::shuffle(detail::kXor, "simd_shuffle_xor", v, mask, l);
}
template <class T>
inline T simd_sum(T v, std::source_location l = std::source_location::current()) {
  return detail::reduce(detail::kSum, "simd_sum", v, l);
}
template <class T>
inline T simd_min(T v, std::source_location l = std::source_location::current()) {
  return detail::reduce(detail::kMin, "simd_min", v, l);
}
template <class T>
inline T simd_max(T v, std::source_location l = std::source_location::current()) {
  return detail::reduce(detail::kMax, "simd_max", v, l);
}

// ---- simdgroup_matrix (MSL 2.3+) ----
// Distributed over the SIMD group as a GPU would hold it: lane l owns elements l·E … l·E + E − 1 of
// the row-major matrix (E = Rows·Cols/32; for 8×8, lane l holds row l/4, columns 2·(l%4) and +1).
// Apple does not document its own distribution; results do not depend on it.
template <class T, int Cols, int Rows>
struct simdgroup_matrix {
  static_assert((Rows * Cols) % 32 == 0, "simdgroup_matrix must spread evenly over 32 lanes");
  static constexpr int kPerLane = Rows * Cols / 32;
  T e[kPerLane];  // this lane's elements
};
using simdgroup_float8x8 = simdgroup_matrix<float, 8, 8>;
using simdgroup_half8x8 = simdgroup_matrix<half, 8, 8>;

template <class T, int Cols, int Rows>
inline simdgroup_matrix<T, Cols, Rows> make_filled_simdgroup_matrix(T value) {
  simdgroup_matrix<T, Cols, Rows> m;
  for (auto& x : m.e) x = value;
  return m;
}

namespace detail {
/** Every live lane of the SIMD group at this call site: a matrix operation is SIMD-group-wide. */
inline uint32_t matrixSync(const char* name, std::source_location l) {
  const uint32_t mask = ::inkling::emu::liveLanes();
  if (mask != 0xffffffffu) {
    ::inkling::emu::fail(std::string(name) + ": every lane of the SIMD group must take part (some have returned)", site(l));
  }
  char none = 0, all[kWarpSize];
  ::inkling::emu::warpExchange(Collective{CollectiveKind::Matrix, 0, mask, site(l), true, name}, &none, 1, all);
  return mask;
}
}  // namespace detail

/** Each lane reads its own elements: no exchange is needed, so (as for the hardware's loads) there
 *  is no synchronisation here; the multiply-accumulate that consumes the matrix is the collective
 *  that checks the SIMD group took part as a whole. */
template <class T, int C, int R>
inline void simdgroup_load(simdgroup_matrix<T, C, R>& d, const T* src, ulong elementsPerRow = C, ulong2 origin = ulong2(0, 0),
                           bool transpose = false, std::source_location l = std::source_location::current()) {
  if (::inkling::emu::liveLanes() != 0xffffffffu) {
    ::inkling::emu::fail("simdgroup_load: every lane of the SIMD group must take part (some have returned)", site(l));
  }
  // origin is (column, row), as MSL's matrix_origin.
  const T* base = src + origin.y * elementsPerRow + origin.x;
  const uint32_t lane = ::inkling::emu::self().lane;
  for (int i = 0; i < d.kPerLane; i++) {
    const int flat = int(lane) * d.kPerLane + i, r = flat / C, c = flat % C;
    d.e[i] = transpose ? base[c * elementsPerRow + r] : base[r * elementsPerRow + c];
  }
}

/** Each element has exactly one writer lane (its owner), so ThreadSanitizer sees no race. */
template <class T, int C, int R>
inline void simdgroup_store(const simdgroup_matrix<T, C, R>& m, T* dst, ulong elementsPerRow = C, ulong2 origin = ulong2(0, 0),
                            bool transpose = false, std::source_location l = std::source_location::current()) {
  detail::matrixSync("simdgroup_store", l);
  T* base = dst + origin.y * elementsPerRow + origin.x;
  const uint32_t lane = ::inkling::emu::self().lane;
  for (int i = 0; i < m.kPerLane; i++) {
    const int flat = int(lane) * m.kPerLane + i, r = flat / C, c = flat % C;
    (transpose ? base[c * elementsPerRow + r] : base[r * elementsPerRow + c]) = m.e[i];
  }
}

/** d = a·b + c: the lanes exchange their pieces of a, b and c (one collective), then each lane
 *  computes its own elements of d, one fused multiply-add per term, k in order. */
template <class T, int K, int R, int C>
inline void simdgroup_multiply_accumulate(simdgroup_matrix<T, C, R>& d, const simdgroup_matrix<T, K, R>& a,
                                          const simdgroup_matrix<T, C, K>& b, const simdgroup_matrix<T, C, R>& c,
                                          std::source_location l = std::source_location::current()) {
  const uint32_t mask = ::inkling::emu::liveLanes();
  if (mask != 0xffffffffu) {
    ::inkling::emu::fail("simdgroup_multiply_accumulate: every lane of the SIMD group must take part (some have returned)", site(l));
  }
  struct Piece {
    T a[R * K / 32], b[K * C / 32];
  };
  Piece mine, all[detail::kWarpSize];
  std::memcpy(mine.a, a.e, sizeof mine.a);
  std::memcpy(mine.b, b.e, sizeof mine.b);
  ::inkling::emu::warpExchange(detail::Collective{detail::CollectiveKind::Matrix, 1, mask, site(l), true,
                                                  "simdgroup_multiply_accumulate"},
                               &mine, sizeof mine, all);
  T fullA[R * K], fullB[K * C];
  for (uint32_t lane = 0; lane < detail::kWarpSize; lane++) {
    std::memcpy(fullA + lane * (R * K / 32), all[lane].a, sizeof mine.a);
    std::memcpy(fullB + lane * (K * C / 32), all[lane].b, sizeof mine.b);
  }
  const uint32_t lane = ::inkling::emu::self().lane;
  simdgroup_matrix<T, C, R> out;
  for (int i = 0; i < out.kPerLane; i++) {
    const int flat = int(lane) * out.kPerLane + i, r = flat / C, col = flat % C;
    T acc = c.e[i];
    for (int k = 0; k < K; k++) acc = __builtin_fmaf(fullA[r * K + k], fullB[k * C + col], acc);
    out.e[i] = acc;
  }
  d = out;
}

}  // namespace metal

// ---- built-in inputs, bound by the pre-pass as default arguments ----
namespace msl_emu {

enum class Builtin {
  ThreadPositionInGrid, ThreadPositionInThreadgroup, ThreadIndexInThreadgroup, ThreadgroupPositionInGrid,
  ThreadsPerThreadgroup, ThreadgroupsPerGrid, ThreadsPerGrid, SimdgroupIndexInThreadgroup, ThreadIndexInSimdgroup,
  ThreadsPerSimdgroup,
};

/** A built-in value, converted to the parameter's declared type (uint, uint2 or uint3). */
struct BuiltinValue {
  uint32_t x, y, z;
  operator uint32_t() const { return x; }
  operator metal::uint2() const { return metal::uint2(x, y); }
  operator metal::uint3() const { return metal::uint3(x, y, z); }
  operator uint16_t() const { return uint16_t(x); }
};

inline BuiltinValue builtin(Builtin which) {
  const auto& s = ::inkling::emu::self();
  switch (which) {
    case Builtin::ThreadPositionInGrid:
      return {s.block.x * s.blockDim.x + s.thread.x, s.block.y * s.blockDim.y + s.thread.y, s.block.z * s.blockDim.z + s.thread.z};
    case Builtin::ThreadPositionInThreadgroup: return {s.thread.x, s.thread.y, s.thread.z};
    case Builtin::ThreadIndexInThreadgroup: return {s.linear, 0, 0};
    case Builtin::ThreadgroupPositionInGrid: return {s.block.x, s.block.y, s.block.z};
    case Builtin::ThreadsPerThreadgroup: return {s.blockDim.x, s.blockDim.y, s.blockDim.z};
    case Builtin::ThreadgroupsPerGrid: return {s.gridDim.x, s.gridDim.y, s.gridDim.z};
    case Builtin::ThreadsPerGrid:
      return {s.gridDim.x * s.blockDim.x, s.gridDim.y * s.blockDim.y, s.gridDim.z * s.blockDim.z};
    case Builtin::SimdgroupIndexInThreadgroup: return {s.warp, 0, 0};
    case Builtin::ThreadIndexInSimdgroup: return {s.lane, 0, 0};
    case Builtin::ThreadsPerSimdgroup: return {::inkling::emu::kWarpSize, 0, 0};
  }
  return {0, 0, 0};
}

/** Parameter `index` of a kernel as its declared type: a buffer's address (pointers), the buffer
 *  or the argument block itself (references; the block is bound at index buffers.size()). */
template <class T>
T bind(const BoundArgs& a, size_t index) {
  if constexpr (std::is_pointer_v<T>) {
    return static_cast<T>(a.buffers.at(index));
  } else {
    static_assert(std::is_reference_v<T>, "a kernel parameter bound to a buffer index must be a pointer or a reference");
    using V = std::remove_reference_t<T>;
    if (index == a.buffers.size()) return *reinterpret_cast<V*>(const_cast<unsigned char*>(a.bytes.data()));
    return *static_cast<V*>(a.buffers.at(index));
  }
}

struct KernelRegistration {
  KernelRegistration(const char* name, int bufferParams, const char* file, int line, std::function<void(const BoundArgs&)> invoke) {
    registerKernel(name, KernelEntry{std::move(invoke), bufferParams, file, line});
  }
};

}  // namespace msl_emu

using namespace metal;

// ---- address-space qualifiers: last, after every standard header (see the header comment) ----
#define kernel
#define device
#define constant const
#define thread
