// Scratch memory that grows once and is then reused: packed GEMM panels, im2col columns,
// per-task partial sums. Kernels ask for what they need at the start (never inside a hot loop);
// after the first training step no kernel allocates again.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace inkling {

class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ~ScratchBuffer() { std::free(data_); }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ScratchBuffer(ScratchBuffer&& o) noexcept : data_(o.data_), capacity_(o.capacity_) {
    o.data_ = nullptr;
    o.capacity_ = 0;
  }

  /** At least `count` floats, 64-byte aligned; the contents are unspecified. */
  float* floats(size_t count) {
    size_t bytes = count * sizeof(float);
    if (bytes > capacity_) {
      std::free(data_);
      // Grow by 1.5x so that a slowly growing shape does not reallocate every call.
      size_t want = (bytes + bytes / 2 + 63) & ~size_t(63);
      data_ = std::aligned_alloc(64, want);
      if (!data_) throw std::bad_alloc();
      capacity_ = want;
    }
    return static_cast<float*>(data_);
  }

  size_t capacityBytes() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

/** One thread's scratch: the GEMM's packed A and B blocks and a column buffer for im2col. */
struct ThreadScratch {
  ScratchBuffer packA;
  ScratchBuffer packB;
  ScratchBuffer columns;
  ScratchBuffer tile;
  /** A fused convolution's output planes before they are pooled (conv_pool.h), and the pool's
   *  unused argmax. */
  ScratchBuffer stage;
  ScratchBuffer stageIndex;
  /** The batch-1 Winograd forward's transformed input, products and padded rows (winograd.h). */
  ScratchBuffer winograd;
};

}  // namespace inkling
