// A caching device allocator with graph-private pools.
//
// cudaMalloc/cudaFree are slow (and cudaFree synchronises the device), so freed blocks go to a
// free list and are handed out again; everything runs on one stream, so stream order makes an
// immediate reuse safe. Sizes are rounded up to 512 B (≤ 1 MiB) or 2 MiB (larger) so that the
// per-step temporaries of a training loop find their blocks again; a request takes the smallest
// free block that is at least its size and at most twice it.
//
// Graph pools (the PyTorch design): while a CUDA graph is being captured, allocations come from
// that graph's private pool, and every block freed during the capture — or allocated during it
// and freed later — returns to that pool, never to the general one. The graph keeps writing to
// those addresses on every replay, so no unrelated buffer may be placed there while it lives.
// Releasing the graph hands its pool back to the general pool (id 0).
#pragma once
#include <cstddef>
#include <map>
#include <unordered_map>

namespace inkling {

class DeviceAllocator {
 public:
  ~DeviceAllocator();
  void* allocate(size_t bytes);
  void release(void* p);
  // All allocations and frees until endCapturePool() belong to pool `id` (> 0).
  void beginCapturePool(int id);
  void endCapturePool();
  // The graph owning pool `id` is gone: its blocks join the general pool.
  void dropPool(int id);
  // Returns the general pool's free blocks to the driver (cudaFree). Not during a capture.
  void trim();
  void releaseAll();
  size_t reservedBytes() const { return reserved_; }

 private:
  struct Block {
    size_t size;
    int pool;
    bool live;
  };
  static size_t roundSize(size_t bytes);
  void* takeFree(int pool, size_t size);
  std::unordered_map<void*, Block> blocks_;
  std::unordered_map<int, std::multimap<size_t, void*>> free_;  // pool → size → block
  std::unordered_map<int, bool> poolAlive_;
  int capturePool_ = 0;
  size_t reserved_ = 0;
};

}  // namespace inkling
