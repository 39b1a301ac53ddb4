// See device_allocator.h.
#include "device_allocator.h"

#include <cuda_runtime.h>

#include "../common.cuh"

namespace inkling {

DeviceAllocator::~DeviceAllocator() { releaseAll(); }

size_t DeviceAllocator::roundSize(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t small = 512, large = 2u << 20;
  return bytes <= (1u << 20) ? (bytes + small - 1) / small * small : (bytes + large - 1) / large * large;
}

void* DeviceAllocator::takeFree(int pool, size_t size) {
  auto lists = free_.find(pool);
  if (lists == free_.end()) return nullptr;
  auto it = lists->second.lower_bound(size);
  if (it == lists->second.end() || it->first > 2 * size) return nullptr;
  void* p = it->second;
  lists->second.erase(it);
  return p;
}

void* DeviceAllocator::allocate(size_t bytes) {
  const size_t size = roundSize(bytes);
  const int pool = capturePool_;
  if (void* p = takeFree(pool, size)) {
    blocks_[p].live = true;
    return p;
  }
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, size);
  if (err == cudaErrorMemoryAllocation && capturePool_ == 0) {
    (void)cudaGetLastError();  // clear the sticky-free error state of the failed call
    trim();
    err = cudaMalloc(&p, size);
  }
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    cudaCheck(err, ("cudaMalloc(" + std::to_string(size) + " bytes)").c_str(), __FILE__, __LINE__);
  }
  blocks_[p] = Block{size, pool, true};
  reserved_ += size;
  return p;
}

void DeviceAllocator::release(void* p) {
  auto it = blocks_.find(p);
  if (it == blocks_.end() || !it->second.live) throw CudaError("device allocator: free of an unknown or already freed pointer");
  Block& b = it->second;
  b.live = false;
  // A block freed during a capture may still be read or written by the graph: it joins the
  // capture's pool. A block that belongs to a live graph's pool goes back there.
  if (capturePool_ != 0 && b.pool == 0) b.pool = capturePool_;
  free_[b.pool].emplace(b.size, p);
}

void DeviceAllocator::beginCapturePool(int id) {
  capturePool_ = id;
  poolAlive_[id] = true;
}

void DeviceAllocator::endCapturePool() { capturePool_ = 0; }

void DeviceAllocator::dropPool(int id) {
  if (id == 0) return;
  poolAlive_.erase(id);
  for (auto& [p, b] : blocks_) {
    if (b.pool != id) continue;
    b.pool = 0;
  }
  auto lists = free_.find(id);
  if (lists != free_.end()) {
    for (auto& [size, p] : lists->second) free_[0].emplace(size, p);
    free_.erase(lists);
  }
}

void DeviceAllocator::trim() {
  auto lists = free_.find(0);
  if (lists == free_.end()) return;
  for (auto& [size, p] : lists->second) {
    cudaFree(p);
    blocks_.erase(p);
    reserved_ -= size;
  }
  lists->second.clear();
}

void DeviceAllocator::releaseAll() {
  for (auto& [p, b] : blocks_) cudaFree(p);
  blocks_.clear();
  free_.clear();
  poolAlive_.clear();
  reserved_ = 0;
  capturePool_ = 0;
}

}  // namespace inkling
