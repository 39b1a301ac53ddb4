// A cpu backend instance: its thread pool, scratch memory and the kernel table (ISA path) it
// dispatches to. Each `createCpuBackend()` makes one, so backends with different thread counts
// or ISA paths can live side by side (the tests compare them).
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "kernels.h"
#include "scratch.h"
#include "thread_pool.h"

namespace inkling {

/** Filters derived from constant weights (Winograd's U), kept under the weights' address and
 *  the stamp the TypeScript side gives their contents (src/nn/backends/cpu/memory.ts). */
struct DerivedFilters {
  const float* w = nullptr;
  double stamp = 0;
  int outs = 0, ins = 0;
  /** 0: U [16][outs][ins]; 1: Uᵀ in the GEMM's packed-B panels (winogradForwardFew). */
  int layout = 0;
  unsigned long long lastUse = 0;
  ScratchBuffer data;
};

/** The fused first layer's input moments (impl/conv_bn_pool.h) under the input's address, stamp
 *  and shape: a step's backward reads its forward's instead of taking them again. */
struct CachedMoments {
  const float* x = nullptr;
  double stamp = 0;
  int n = 0, h = 0, w = 0, pad = 0;
  ScratchBuffer partials;

  bool holds(const float* x_, double stamp_, int n_, int h_, int w_, int pad_) const {
    return stamp_ > 0 && x == x_ && stamp == stamp_ && n == n_ && h == h_ && w == w_ && pad == pad_;
  }
  /** Names the input the partials now hold. */
  void hold(const float* x_, double stamp_, int n_, int h_, int w_, int pad_) {
    x = x_, stamp = stamp_, n = n_, h = h_, w = w_, pad = pad_;
  }
};

struct Context {
  Context(int threads, const KernelTable* table)
      : pool(threads), perThread(static_cast<size_t>(pool.size())), kernels(table) {}

  ThreadPool pool;
  std::vector<ThreadScratch> perThread;
  /** Shared between threads within one kernel: the packed B block, per-task partial sums. */
  ScratchBuffer sharedPackB;
  ScratchBuffer partials;
  ScratchBuffer temp;
  /** A fused convolution's output shared by the threads (one image at a time, or all of them on
   *  the general path) before it is pooled (impl/conv_pool.h). */
  ScratchBuffer stage;
  /** A rearranged copy of conv weights (the flipped, transposed kernel of the backward pass). */
  ScratchBuffer weights;
  /** A few filter sets (the convolutions of one model at inference), least recently used replaced. */
  std::array<DerivedFilters, 4> derived;
  CachedMoments moments;
  unsigned long long uses = 0;
  const KernelTable* kernels;
};

}  // namespace inkling
