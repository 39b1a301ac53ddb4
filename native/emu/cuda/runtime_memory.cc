// The emulated CUDA runtime's memory calls: cudaMalloc/Free on the guarded allocation table
// (core/device_memory.h), pinned host memory, copies and memsets, each range checked against one
// live allocation.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "runtime_state.h"

using namespace inkling::emu::cuda::detail;

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  RuntimeState& r = rt();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    cudaStreamCaptureMode strictest = cudaStreamCaptureModeRelaxed;
    if (anyCapture(&strictest) && strictest != cudaStreamCaptureModeRelaxed) {
      return captureViolation(nullptr, "cudaMalloc (allowed only in cudaStreamCaptureModeRelaxed)");
    }
    const size_t limit = deviceLimit();
    if (limit && inkling::emu::liveDeviceBytes() + bytes > limit) {
      *ptr = nullptr;
      return reportError(cudaErrorMemoryAllocation, "inkling emulator: cudaMalloc(" + std::to_string(bytes) + ") exceeds INKLING_EMU_DEVICE_MB (" +
                                                 std::to_string(inkling::emu::liveDeviceBytes()) + " bytes in use)");
    }
  }
  try {
    *ptr = inkling::emu::deviceAlloc(bytes);
  } catch (const std::bad_alloc&) {
    *ptr = nullptr;
    return reportError(cudaErrorMemoryAllocation, "inkling emulator: cudaMalloc(" + std::to_string(bytes) + "): host memory exhausted");
  }
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(rt().mu);
    cudaStreamCaptureMode strictest = cudaStreamCaptureModeRelaxed;
    if (anyCapture(&strictest) && strictest != cudaStreamCaptureModeRelaxed) return captureViolation(nullptr, "cudaFree");
  }
  if (!inkling::emu::deviceFree(ptr)) {
    return reportError(cudaErrorInvalidValue, "inkling emulator: cudaFree(" + hexPtr(ptr) + "): not the start of a live device allocation (a double free, or a pointer cudaMalloc did not return)");
  }
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
  if (!p) return reportError(cudaErrorMemoryAllocation, "inkling emulator: cudaMallocHost(" + std::to_string(bytes) + ") failed");
  std::memset(p, inkling::emu::kPoisonByte, bytes);
  RuntimeState& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  r.pinned[reinterpret_cast<uintptr_t>(p)] = bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* ptr) {
  if (!ptr) return cudaSuccess;
  RuntimeState& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.pinned.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == r.pinned.end()) return reportError(cudaErrorInvalidValue, "inkling emulator: cudaFreeHost(" + hexPtr(ptr) + "): not a live cudaMallocHost block");
  r.pinned.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

namespace {

cudaError_t copy(const char* call, void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream, bool async) {
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return reportError(cudaErrorInvalidValue, std::string("inkling emulator: ") + call + " with a null pointer");
  const bool dstDev = isDevice(dst), srcDev = isDevice(src);
  if (kind == cudaMemcpyDefault) kind = srcDev ? (dstDev ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost) : (dstDev ? cudaMemcpyHostToDevice : cudaMemcpyHostToHost);
  std::string why;
  const bool dstShouldBeDevice = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool srcShouldBeDevice = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (dstShouldBeDevice && !checkDeviceRange(call, "destination", dst, bytes, &why)) return reportError(cudaErrorInvalidValue, "inkling emulator: " + why);
  if (srcShouldBeDevice && !checkDeviceRange(call, "source", src, bytes, &why)) return reportError(cudaErrorInvalidValue, "inkling emulator: " + why);
  if (!dstShouldBeDevice && dstDev) return reportError(cudaErrorInvalidMemcpyDirection, std::string("inkling emulator: ") + call + ": the destination is device memory but the kind says host");
  if (!srcShouldBeDevice && srcDev) return reportError(cudaErrorInvalidMemcpyDirection, std::string("inkling emulator: ") + call + ": the source is device memory but the kind says host");
  std::lock_guard<std::mutex> lock(rt().mu);
  CUstream_st* s = streamOf(stream);
  if (!async) {
    cudaStreamCaptureMode strictest = cudaStreamCaptureModeRelaxed;
    if (anyCapture(&strictest) && strictest != cudaStreamCaptureModeRelaxed) return captureViolation(nullptr, call);
  }
  if (s->capturing) {
    const void* host = kind == cudaMemcpyHostToDevice ? src : kind == cudaMemcpyDeviceToHost ? dst : nullptr;
    if (host && !pinnedRange(host, bytes)) {
      if (s->invalidated.empty()) s->invalidated = std::string(call) + " from pageable host memory";
      return reportError(cudaErrorStreamCaptureUnsupported, std::string("inkling emulator: ") + call +
                                                         " captured with pageable host memory: the graph re-reads that address on every replay, so it must be pinned (cudaMallocHost) and outlive the graph");
    }
  }
  Node n{Node::Kind::Memcpy, {}, {}, {}, dst, src, bytes, kind};
  if (!async) return runNode(n);
  if (s->capturing) {
    s->nodes.push_back(std::move(n));
    return cudaSuccess;
  }
  return runNode(n);
}

cudaError_t set(const char* call, void* dst, int value, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  std::string why;
  if (!checkDeviceRange(call, "destination", dst, bytes, &why)) return reportError(cudaErrorInvalidValue, "inkling emulator: " + why);
  std::lock_guard<std::mutex> lock(rt().mu);
  Node n{Node::Kind::Memset, {}, {}, {}, dst, nullptr, bytes, cudaMemcpyDefault, value};
  CUstream_st* s = streamOf(stream);
  if (s->capturing) {
    s->nodes.push_back(std::move(n));
    return cudaSuccess;
  }
  return runNode(n);
}

}  // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return copy("cudaMemcpy", dst, src, bytes, kind, nullptr, false);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  return copy("cudaMemcpyAsync", dst, src, bytes, kind, stream, true);
}
cudaError_t cudaMemset(void* dst, int value, size_t bytes) { return set("cudaMemset", dst, value, bytes, nullptr); }
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) { return set("cudaMemsetAsync", dst, value, bytes, stream); }
