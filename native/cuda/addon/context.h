// One CUDA device, one non-blocking stream, a caching allocator, the hyper block, readback
// staging and the captured training-step graph. Plain C++ (no N-API), so dev tools could drive it.
//
// Graph capture (see README.md, "CUDA graphs"):
//   beginCapture()  the stream starts capturing (relaxed mode); allocations come from a private pool
//   ... the caller enqueues one whole training step as usual ...
//   endCapture()    instantiates the graph and launches it once (the captured step really runs)
//   replay(lr)      sets the hyper block {lr or NaN, k} for the k-th replay, launches the graph,
//                   then resets the hyper block to {NaN, 0} for eager work
//   releaseGraph()  destroys it and returns its memory pool
// Uploads during a capture are copied into pinned memory owned by the graph: they replay as
// constants. Readbacks during a capture are refused (nothing runs until endCapture).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../kernels.h"
#include "device_allocator.h"

namespace inkling {

struct DeviceInfo {
  std::string name;
  int major, minor, smCount;
  size_t totalMemory;
  int driverVersion, runtimeVersion;
};

class Context {
 public:
  Context(int device, GemmVariant gemm);
  ~Context();
  void dispose();

  const DeviceInfo& info() const { return info_; }
  GemmVariant gemmVariant() const { return gemm_; }
  void setGemmVariant(GemmVariant v) { gemm_ = v; }

  // ---- memory ----
  void* allocate(size_t bytes) { return alloc_.allocate(bytes); }
  void release(void* p) { alloc_.release(p); }
  void upload(void* dst, const void* src, size_t bytes);
  void copyDeviceToDevice(void* dst, const void* src, size_t bytes);
  size_t reservedBytes() const { return alloc_.reservedBytes(); }

  // ---- asynchronous readback: begin → poll until true → finish copies into `dst` ----
  uint32_t beginDownload(const void* src, size_t bytes);  // bytes == 0: a flush (event only)
  bool poll(uint32_t id);
  void finishDownload(uint32_t id, void* dst);
  void cancel(uint32_t id);

  // ---- graphs ----
  void beginCapture();
  void endCapture();
  void abortCapture();
  void replay(float lrOverride);
  void releaseGraph();
  bool capturing() const { return capturing_; }
  bool hasGraph() const { return exec_ != nullptr; }

  // Everything a launcher needs; scratch handed out here is freed right after the launch.
  LaunchEnv env();
  void endLaunch();  // returns this launch's scratch blocks to the allocator

 private:
  struct Pinned {
    void* ptr;
    size_t size;
  };
  struct Pending {
    cudaEvent_t event;
    Pinned staging;  // size 0 for a flush
    size_t bytes;
  };
  static void* scratchThunk(void* self, size_t bytes);
  Pinned acquirePinned(size_t bytes);
  void releasePinned(Pinned p);
  cudaEvent_t acquireEvent();
  void check();  // throws when disposed

  int device_ = 0;
  bool disposed_ = false;
  DeviceInfo info_{};
  GemmVariant gemm_;
  cudaStream_t stream_ = nullptr;
  HyperBlock* hyper_ = nullptr;
  DeviceAllocator alloc_;
  std::vector<void*> scratch_;
  std::unordered_map<uint32_t, Pending> pending_;
  uint32_t nextId_ = 1;
  std::vector<Pinned> pinnedFree_;
  std::vector<cudaEvent_t> eventFree_;
  // graph state
  bool capturing_ = false;
  int nextPool_ = 1;
  int graphPool_ = 0;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  std::vector<void*> graphPinned_;  // upload sources baked into the graph
  uint32_t replays_ = 0;
};

}  // namespace inkling
