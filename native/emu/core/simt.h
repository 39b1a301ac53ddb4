// The language-neutral SIMT core of inkling's GPU emulator (native/emu/README.md describes it).
//
// A kernel is a C++ callable run once per thread of a grid of blocks. Blocks run one at a time;
// the threads of a block run either as cooperative fibers on one OS thread, in a deterministic
// order (forward, or reverse to expose order-dependent results), or as one OS thread each (for
// ThreadSanitizer). Inside a kernel, a thread finds its indices with self(), synchronises its
// block with barrier(), and exchanges data with the other lanes of its warp (a Metal simdgroup)
// through warpExchange(), on which every shuffle, vote, reduction and matrix operation of a
// language layer is built. Misuse (divergent barriers, a thread exiting while others wait, lanes
// that disagree on a collective, a deadlock) aborts the launch with an error naming the kernel,
// the block, the threads and the source lines.
//
// Nothing here knows CUDA or Metal names: native/emu/cuda/ maps CUDA onto it; a Metal layer maps
// threadgroup_barrier, simd_shuffle and simdgroup_matrix the same way.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace inkling::emu {

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

/** Where something is in the kernel sources (file as __FILE__ spells it, line). */
struct SourceSite {
  const char* file = "";
  int line = 0;
};
#define INKLING_EMU_SITE (::inkling::emu::SourceSite{__FILE__, __LINE__})

constexpr uint32_t kWarpSize = 32;
constexpr uint32_t kMaxBlockThreads = 1024;
/** Largest per-lane payload of one warpExchange. */
constexpr size_t kMaxExchangeBytes = 256;

enum class Mode { Fibers, Threads };
enum class Order { Forward, Reverse };

struct Options {
  Mode mode = Mode::Fibers;
  /** Forward: blocks and threads in increasing linear index; Reverse: decreasing. */
  Order order = Order::Forward;
  /** Fiber stack size (0: the default, 128 KiB; 512 KiB under AddressSanitizer). */
  size_t stackBytes = 0;
};

/** INKLING_EMU_MODE=fibers|threads, INKLING_EMU_ORDER=forward|reverse, INKLING_EMU_STACK_KB.
 *  Read on every call, so a process may switch between launches. Unknown values throw. */
Options optionsFromEnvironment();

struct KernelInfo {
  /** The kernel's name as the language layer knows it (a template instantiation, a function). */
  std::string name;
  /** Where it was launched. */
  SourceSite launchSite;
};

struct LaunchShape {
  Dim3 grid, block;
  /** Bytes of dynamically sized group-shared memory (CUDA's extern __shared__). */
  size_t dynamicSharedBytes = 0;
};

struct LaunchResult {
  bool ok = true;
  /** One paragraph: what went wrong, in which kernel, block and threads, at which lines. */
  std::string error;
};

/** Runs `body` once for every thread of every block. Checks the shape (non-zero, at most
 *  kMaxBlockThreads per block); poisons group-shared memory before each block. Never throws for
 *  kernel misbehaviour: that is the result's error. Not re-entrant (no launches from kernels). */
LaunchResult launch(const KernelInfo& kernel, const LaunchShape& shape, const std::function<void()>& body,
                    const Options& options);

/** The kernel and block running on this OS thread, or null outside a launch (for crash reports). */
const KernelInfo* currentKernel();

// ---------------------------------------------------------------- inside a kernel

struct ThreadIndex {
  Dim3 thread, block, blockDim, gridDim;
  uint32_t linear;  // thread.x + blockDim.x·(thread.y + blockDim.y·thread.z)
  uint32_t lane;    // linear % kWarpSize
  uint32_t warp;    // linear / kWarpSize
};

/** The calling thread's indices. Only valid inside a kernel. */
const ThreadIndex& self();

/** Block-wide barrier (CUDA __syncthreads, MSL threadgroup_barrier). Every thread of the block
 *  must arrive at the same site; a thread that has exited, or one that exits while others wait,
 *  is an error. */
void barrier(SourceSite site);

enum class CollectiveKind : uint8_t { Sync, Shuffle, Vote, Reduce, Matrix };

struct Collective {
  CollectiveKind kind;
  /** Distinguishes operations of one kind (shuffle mode, vote type, reduction operator...). */
  uint32_t variant;
  /** The lanes taking part; the caller must be one, and all must exist and not have exited. */
  uint32_t mask;
  SourceSite site;
  /** All lanes of `mask` must be at the same site (PTX .aligned, e.g. mma.sync). */
  bool aligned;
  /** For messages, e.g. "__shfl_down_sync". */
  const char* name;
};

/** Every lane of c.mask deposits `bytes` bytes (≤ kMaxExchangeBytes); when all have arrived,
 *  each gets a copy of every lane's deposit: all[lane·bytes ... ]. Lanes outside the mask leave
 *  their slot unspecified. The lanes must agree on kind, variant and mask. */
void warpExchange(const Collective& c, const void* mine, size_t bytes, void* all);

/** As warpExchange, but copies out only the deposits of the lanes in `wanted` (a shuffle needs
 *  one): all[lane·bytes ...] for each lane in wanted & c.mask. */
void warpExchange(const Collective& c, const void* mine, size_t bytes, void* all, uint32_t wanted);

/** Lanes of the caller's warp that exist and have not exited. (The emulator has no notion of
 *  divergent-but-live lanes; see README.md.) */
uint32_t liveLanes();

/** The block's dynamically sized group-shared memory (poisoned before each block), 16-aligned. */
void* dynamicGroupShared();
size_t dynamicGroupSharedBytes();

/** Aborts the launch from inside a kernel with `what` (and the site), e.g. a trap. */
[[noreturn]] void fail(const std::string& what, SourceSite site);

// ---------------------------------------------------------------- group-shared memory

/** Storage class for statically sized group-shared arrays: `INKLING_EMU_GROUP_SHARED float t[64];`
 *  declares one copy (blocks run one at a time) placed in a section that launch() fills with
 *  0xFF bytes (NaN floats, −1 integers) before every block, so a read of shared memory that no
 *  thread wrote shows up. */
#define INKLING_EMU_GROUP_SHARED static __attribute__((section("inkling_emu_group_shared"), used))

/** The poison byte of group-shared memory and of freshly allocated device memory. */
constexpr unsigned char kPoisonByte = 0xFF;

}  // namespace inkling::emu
