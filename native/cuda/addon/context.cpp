// See context.h.
#include "context.h"

#include <cmath>
#include <cstring>

namespace inkling {

Context::Context(int device, GemmVariant gemm) : device_(device), gemm_(gemm) {
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  if (device < 0 || device >= count) {
    throw CudaError("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)");
  }
  CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  info_.name = prop.name;
  info_.major = prop.major;
  info_.minor = prop.minor;
  info_.smCount = prop.multiProcessorCount;
  info_.totalMemory = prop.totalGlobalMem;
  CUDA_CHECK(cudaDriverGetVersion(&info_.driverVersion));
  CUDA_CHECK(cudaRuntimeGetVersion(&info_.runtimeVersion));
  if (prop.major < 8) {
    throw CudaError(std::string("CUDA device ") + prop.name + " is compute capability " + std::to_string(prop.major) + "." +
                    std::to_string(prop.minor) + "; inkling's kernels are built for sm_80 and newer");
  }
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  CUDA_CHECK(cudaMalloc(&hyper_, sizeof(HyperBlock)));
  LaunchEnv e = env();
  launchSetHyper(e, hyper_, NAN, 0);
  endLaunch();
}

Context::~Context() {
  try {
    dispose();
  } catch (...) {
    // destructors must not throw; dispose() already reported through the JS call if any
  }
}

void Context::dispose() {
  if (disposed_) return;
  disposed_ = true;
  cudaSetDevice(device_);
  if (capturing_) {
    cudaGraph_t g = nullptr;
    cudaStreamEndCapture(stream_, &g);
    if (g) cudaGraphDestroy(g);
    capturing_ = false;
  }
  if (stream_) cudaStreamSynchronize(stream_);
  if (exec_) cudaGraphExecDestroy(exec_);
  if (graph_) cudaGraphDestroy(graph_);
  exec_ = nullptr;
  graph_ = nullptr;
  for (void* p : graphPinned_) cudaFreeHost(p);
  graphPinned_.clear();
  for (auto& [id, pend] : pending_) {
    cudaEventDestroy(pend.event);
    if (pend.staging.ptr) cudaFreeHost(pend.staging.ptr);
  }
  pending_.clear();
  for (auto& p : pinnedFree_) cudaFreeHost(p.ptr);
  pinnedFree_.clear();
  for (auto ev : eventFree_) cudaEventDestroy(ev);
  eventFree_.clear();
  alloc_.releaseAll();
  if (hyper_) cudaFree(hyper_);
  hyper_ = nullptr;
  if (stream_) cudaStreamDestroy(stream_);
  stream_ = nullptr;
}

void Context::check() {
  if (disposed_) throw CudaError("cuda backend: used after dispose()");
}

void* Context::scratchThunk(void* self, size_t bytes) {
  auto* ctx = static_cast<Context*>(self);
  void* p = ctx->alloc_.allocate(bytes);
  ctx->scratch_.push_back(p);
  return p;
}

LaunchEnv Context::env() {
  check();
  return LaunchEnv{stream_, hyper_, info_.smCount, &Context::scratchThunk, this};
}

void Context::endLaunch() {
  for (void* p : scratch_) alloc_.release(p);
  scratch_.clear();
}

void Context::upload(void* dst, const void* src, size_t bytes) {
  check();
  if (bytes == 0) return;
  if (capturing_) {
    // Baked into the graph: the memcpy node reads this pinned copy on every replay.
    void* pinned = nullptr;
    CUDA_CHECK(cudaMallocHost(&pinned, bytes));
    graphPinned_.push_back(pinned);
    std::memcpy(pinned, src, bytes);
    CUDA_CHECK(cudaMemcpyAsync(dst, pinned, bytes, cudaMemcpyHostToDevice, stream_));
    return;
  }
  // Pageable source: cudaMemcpyAsync stages it before returning, so the caller may reuse `src`.
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
}

void Context::copyDeviceToDevice(void* dst, const void* src, size_t bytes) {
  check();
  if (bytes == 0) return;
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
}

Context::Pinned Context::acquirePinned(size_t bytes) {
  size_t best = pinnedFree_.size();
  for (size_t i = 0; i < pinnedFree_.size(); i++) {
    if (pinnedFree_[i].size >= bytes && (best == pinnedFree_.size() || pinnedFree_[i].size < pinnedFree_[best].size)) best = i;
  }
  if (best < pinnedFree_.size()) {
    Pinned p = pinnedFree_[best];
    pinnedFree_.erase(pinnedFree_.begin() + (long)best);
    return p;
  }
  size_t size = bytes < 4096 ? 4096 : bytes;
  Pinned p{nullptr, size};
  CUDA_CHECK(cudaMallocHost(&p.ptr, size));
  return p;
}

void Context::releasePinned(Pinned p) {
  if (!p.ptr) return;
  if (pinnedFree_.size() < 16) pinnedFree_.push_back(p);
  else cudaFreeHost(p.ptr);
}

cudaEvent_t Context::acquireEvent() {
  if (!eventFree_.empty()) {
    cudaEvent_t e = eventFree_.back();
    eventFree_.pop_back();
    return e;
  }
  cudaEvent_t e;
  CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return e;
}

uint32_t Context::beginDownload(const void* src, size_t bytes) {
  check();
  if (capturing_) {
    throw CudaError("cuda backend: download/flush while capturing a CUDA graph; nothing has run yet — call endCapture() first");
  }
  Pending p{acquireEvent(), Pinned{nullptr, 0}, bytes};
  if (bytes > 0) {
    p.staging = acquirePinned(bytes);
    CUDA_CHECK(cudaMemcpyAsync(p.staging.ptr, src, bytes, cudaMemcpyDeviceToHost, stream_));
  }
  CUDA_CHECK(cudaEventRecord(p.event, stream_));
  uint32_t id = nextId_++;
  pending_.emplace(id, p);
  return id;
}

bool Context::poll(uint32_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) throw CudaError("cuda backend: unknown readback id");
  cudaError_t err = cudaEventQuery(it->second.event);
  if (err == cudaErrorNotReady) return false;
  if (err != cudaSuccess) {
    cancel(id);
    cudaCheck(err, "cudaEventQuery (an earlier kernel failed)", __FILE__, __LINE__);
  }
  return true;
}

void Context::finishDownload(uint32_t id, void* dst) {
  auto it = pending_.find(id);
  if (it == pending_.end()) throw CudaError("cuda backend: unknown readback id");
  Pending p = it->second;
  pending_.erase(it);
  if (p.bytes > 0 && dst) std::memcpy(dst, p.staging.ptr, p.bytes);
  releasePinned(p.staging);
  eventFree_.push_back(p.event);
}

void Context::cancel(uint32_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = it->second;
  pending_.erase(it);
  cudaEventSynchronize(p.event);  // the copy may still be writing the staging buffer
  releasePinned(p.staging);
  eventFree_.push_back(p.event);
}

void Context::beginCapture() {
  check();
  if (capturing_) throw CudaError("cuda backend: beginCapture() while already capturing");
  releaseGraph();
  graphPool_ = nextPool_++;
  alloc_.beginCapturePool(graphPool_);
  cudaError_t err = cudaStreamBeginCapture(stream_, cudaStreamCaptureModeRelaxed);
  if (err != cudaSuccess) {
    alloc_.endCapturePool();
    alloc_.dropPool(graphPool_);
    graphPool_ = 0;
    cudaCheck(err, "cudaStreamBeginCapture", __FILE__, __LINE__);
  }
  capturing_ = true;
}

void Context::endCapture() {
  check();
  if (!capturing_) throw CudaError("cuda backend: endCapture() without beginCapture()");
  capturing_ = false;
  alloc_.endCapturePool();
  cudaGraph_t g = nullptr;
  cudaError_t err = cudaStreamEndCapture(stream_, &g);
  if (err != cudaSuccess) {
    if (g) cudaGraphDestroy(g);
    releaseGraph();
    cudaCheck(err, "cudaStreamEndCapture (a call during the capture was not capturable)", __FILE__, __LINE__);
  }
  graph_ = g;
  err = cudaGraphInstantiateWithFlags(&exec_, graph_, 0);  // same signature on CUDA 11.4+, 12 and 13
  if (err != cudaSuccess) {
    exec_ = nullptr;
    releaseGraph();
    cudaCheck(err, "cudaGraphInstantiateWithFlags", __FILE__, __LINE__);
  }
  replays_ = 0;
  CUDA_CHECK(cudaGraphLaunch(exec_, stream_));  // the captured step itself (step delta 0)
}

void Context::abortCapture() {
  if (!capturing_) return;
  capturing_ = false;
  alloc_.endCapturePool();
  cudaGraph_t g = nullptr;
  cudaStreamEndCapture(stream_, &g);
  (void)cudaGetLastError();
  if (g) cudaGraphDestroy(g);
  releaseGraph();
}

void Context::replay(float lrOverride) {
  check();
  if (!exec_) throw CudaError("cuda backend: replay() without a captured graph; call beginCapture()/endCapture() first");
  replays_++;
  LaunchEnv e = env();
  launchSetHyper(e, hyper_, lrOverride, replays_);
  CUDA_CHECK(cudaGraphLaunch(exec_, stream_));
  launchSetHyper(e, hyper_, NAN, 0);
}

void Context::releaseGraph() {
  if (capturing_) throw CudaError("cuda backend: releaseGraph() while capturing; call endCapture() or abortCapture()");
  if (!exec_ && !graph_ && graphPool_ == 0 && graphPinned_.empty()) return;
  if (stream_) CUDA_CHECK(cudaStreamSynchronize(stream_));  // the graph may still be running
  if (exec_) cudaGraphExecDestroy(exec_);
  if (graph_) cudaGraphDestroy(graph_);
  exec_ = nullptr;
  graph_ = nullptr;
  for (void* p : graphPinned_) cudaFreeHost(p);
  graphPinned_.clear();
  alloc_.dropPool(graphPool_);
  graphPool_ = 0;
}

}  // namespace inkling
