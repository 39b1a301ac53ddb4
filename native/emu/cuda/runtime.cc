// The emulated CUDA runtime (see runtime.h for what it promises).
//
// Checks beyond what a GPU reports at the call: every copy and memset must lie inside one live
// device allocation (a GPU may silently corrupt a neighbour instead); a launch's configuration is
// checked against sm_90's limits; after every kernel, every allocation's guard bytes are checked
// (the kernel that overran is named); during a stream capture, synchronising calls invalidate the
// capture as CUDA's do, and a captured host↔device copy must use pinned memory (the graph re-reads
// that host address on every replay; pageable memory may be reused by then).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "../core/device_memory.h"
#include "runtime.h"

namespace {

using inkling::emu::DeviceAllocation;
using inkling::emu::KernelInfo;
using inkling::emu::LaunchShape;

struct Node {
  enum class Kind { Kernel, Memcpy, Memset, EventRecord } kind;
  KernelInfo kernel;
  LaunchShape shape;
  std::function<void()> body;
  void* dst = nullptr;
  const void* src = nullptr;
  size_t bytes = 0;
  cudaMemcpyKind copyKind = cudaMemcpyDefault;
  int value = 0;
  cudaEvent_t event = nullptr;
};

}  // namespace

struct CUstream_st {
  unsigned flags = 0;
  bool capturing = false;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::string invalidated;  // why the capture is no longer valid ("" while valid)
  std::vector<Node> nodes;
};
struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  bool inCapture = false;  // recorded into a capture that has not been launched
  std::chrono::steady_clock::time_point when{};
};
struct CUgraph_st {
  std::vector<Node> nodes;
};
struct CUgraphExec_st {
  std::vector<Node> nodes;
};

namespace {

struct RuntimeState {
  std::mutex mu;
  std::map<uintptr_t, size_t> pinned;  // cudaMallocHost blocks
  std::set<cudaStream_t> streams;
  std::set<cudaEvent_t> events;
  std::set<cudaGraph_t> graphs;
  std::set<cudaGraphExec_t> execs;
  CUstream_st legacyStream;
  size_t deviceLimitBytes = 0;  // 0: no limit
  bool limitRead = false;
  unsigned long long launches = 0, blocks = 0, threads = 0;
};

RuntimeState& rt() {
  static RuntimeState* s = new RuntimeState();  // never destroyed: frees may come after static dtors
  return *s;
}

thread_local cudaError_t tPending = cudaSuccess;
thread_local cudaError_t tDetailCode = cudaSuccess;
thread_local std::string tDetail;

cudaError_t reportError(cudaError_t code, const std::string& message) {
  tPending = code;
  tDetailCode = code;
  tDetail = message;
  if (const char* v = std::getenv("INKLING_EMU_VERBOSE"); v && *v == '1') std::fprintf(stderr, "%s\n", message.c_str());
  return code;
}

std::string hexPtr(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)reinterpret_cast<uintptr_t>(p));
  return buf;
}

CUstream_st* streamOf(cudaStream_t s) { return s ? s : &rt().legacyStream; }

bool anyCapture(cudaStreamCaptureMode* strictest) {
  RuntimeState& r = rt();
  bool any = false;
  for (cudaStream_t s : r.streams) {
    if (!s->capturing) continue;
    any = true;
    if (strictest && s->mode != cudaStreamCaptureModeRelaxed) *strictest = s->mode;
  }
  return any;
}

// A synchronising or otherwise capture-unsafe call while `s` (or, for device-wide calls, any
// stream) captures: CUDA fails the call and invalidates the capture.
cudaError_t captureViolation(CUstream_st* s, const std::string& call) {
  const std::string why = call + " while a stream is being captured into a CUDA graph (not capturable)";
  if (s && s->capturing && s->invalidated.empty()) s->invalidated = why;
  if (!s) {
    for (cudaStream_t other : rt().streams)
      if (other->capturing && other->invalidated.empty()) other->invalidated = why;
  }
  return reportError(cudaErrorStreamCaptureUnsupported, "inkling emulator: " + why);
}

bool pinnedRange(const void* p, size_t bytes) {
  RuntimeState& r = rt();
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = r.pinned.upper_bound(a);
  if (it == r.pinned.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}

// The device range [p, p + bytes) must lie in one live allocation.
bool checkDeviceRange(const char* call, const char* which, const void* p, size_t bytes, std::string* why) {
  if (bytes == 0) return true;
  if (inkling::emu::findDeviceAllocation(p, bytes, nullptr)) return true;
  DeviceAllocation a{};
  if (inkling::emu::findDeviceAllocation(p, 0, &a)) {
    const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
    *why = std::string(call) + ": the " + which + " range " + hexPtr(p) + " + " + std::to_string(bytes) + " bytes overruns " +
           inkling::emu::describeAllocation(a) + " by " + std::to_string(end - (a.begin + a.bytes)) + " bytes";
  } else {
    *why = std::string(call) + ": the " + which + " " + hexPtr(p) + " is not inside any live device allocation";
  }
  return false;
}

bool isDevice(const void* p) { return inkling::emu::findDeviceAllocation(p, 0, nullptr); }

cudaError_t runNode(const Node& n);

cudaError_t runKernel(const Node& n) {
  inkling::emu::Options opt;
  try {
    opt = inkling::emu::optionsFromEnvironment();
  } catch (const std::exception& e) {
    return reportError(cudaErrorInvalidValue, std::string("inkling emulator: ") + e.what());
  }
  const auto result = inkling::emu::launch(n.kernel, n.shape, n.body, opt);
  {
    RuntimeState& r = rt();
    std::lock_guard<std::mutex> lock(r.mu);
    const unsigned long long blocks = (unsigned long long)n.shape.grid.x * n.shape.grid.y * n.shape.grid.z;
    r.launches++;
    r.blocks += blocks;
    r.threads += blocks * n.shape.block.x * n.shape.block.y * n.shape.block.z;
  }
  std::string guards = inkling::emu::checkDeviceGuards();
  while (!guards.empty() && guards.back() == '\n') guards.pop_back();
  if (!result.ok) return reportError(cudaErrorLaunchFailure, result.error + (guards.empty() ? "" : "\n" + guards));
  if (!guards.empty()) {
    return reportError(cudaErrorIllegalAddress, "inkling emulator: kernel " + n.kernel.name + " (launched at " + n.kernel.launchSite.file +
                                                    ":" + std::to_string(n.kernel.launchSite.line) + ") " + guards);
  }
  return cudaSuccess;
}

cudaError_t runNode(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Kernel: return runKernel(n);
    case Node::Kind::Memcpy: std::memmove(n.dst, n.src, n.bytes); return cudaSuccess;
    case Node::Kind::Memset: std::memset(n.dst, n.value, n.bytes); return cudaSuccess;
    case Node::Kind::EventRecord:
      n.event->recorded = true;
      n.event->inCapture = false;
      n.event->when = std::chrono::steady_clock::now();
      return cudaSuccess;
  }
  return cudaSuccess;
}

const char* errorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorAssert: return "cudaErrorAssert";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureImplicit: return "cudaErrorStreamCaptureImplicit";
    default: return "cudaErrorUnknown";
  }
}

const char* errorText(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    default: return "unknown error";
  }
}

int smCount() {
  if (const char* v = std::getenv("INKLING_EMU_SMS"); v && *v) {
    const int n = std::atoi(v);
    if (n >= 1 && n <= 1024) return n;
  }
  return 132;  // H100 SXM
}

size_t deviceLimit() {
  RuntimeState& r = rt();
  if (!r.limitRead) {
    r.limitRead = true;
    if (const char* v = std::getenv("INKLING_EMU_DEVICE_MB"); v && *v) r.deviceLimitBytes = static_cast<size_t>(std::atoll(v)) << 20;
  }
  return r.deviceLimitBytes;
}

}  // namespace

// ---------------------------------------------------------------- errors and device

const char* cudaGetErrorString(cudaError_t error) {
  if (error != cudaSuccess && error == tDetailCode && !tDetail.empty()) return tDetail.c_str();
  return errorText(error);
}
const char* cudaGetErrorName(cudaError_t error) { return errorName(error); }
cudaError_t cudaGetLastError() {
  const cudaError_t e = tPending;
  tPending = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return tPending; }

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : reportError(cudaErrorInvalidDevice, "inkling emulator: device " + std::to_string(device) + " does not exist (one emulated device)");
}
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device != 0) return reportError(cudaErrorInvalidDevice, "inkling emulator: no device " + std::to_string(device));
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "inkling SIMT emulator (H100-like sm_90, on the CPU)");
  const size_t limit = deviceLimit();
  p->totalGlobalMem = limit ? limit : (80ull << 30);
  p->sharedMemPerBlock = 48 << 10;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024, p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7fffffff, p->maxGridSize[1] = 65535, p->maxGridSize[2] = 65535;
  p->clockRate = 1980000;
  p->totalConstMem = 64 << 10;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = smCount();
  p->memoryClockRate = 2619000;
  p->memoryBusWidth = 5120;
  p->l2CacheSize = 50 << 20;
  p->maxThreadsPerMultiProcessor = 2048;
  p->sharedMemPerMultiprocessor = 228 << 10;
  p->sharedMemPerBlockOptin = 227 << 10;
  p->regsPerMultiprocessor = 65536;
  p->concurrentKernels = 1;
  p->asyncEngineCount = 3;
  p->unifiedAddressing = 1;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (anyCapture(nullptr)) return captureViolation(nullptr, "cudaDeviceSynchronize");
  return cudaSuccess;
}
cudaError_t cudaDeviceReset() { return cudaSuccess; }

// ---------------------------------------------------------------- memory

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

// ---------------------------------------------------------------- streams and events

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  auto* s = new CUstream_st();
  s->flags = flags;
  std::lock_guard<std::mutex> lock(rt().mu);
  rt().streams.insert(s);
  *stream = s;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().streams.erase(stream)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaStreamDestroy of an unknown stream");
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  CUstream_st* s = streamOf(stream);
  if (s->capturing) return captureViolation(s, "cudaStreamSynchronize");
  return cudaSuccess;
}
cudaError_t cudaStreamQuery(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  CUstream_st* s = streamOf(stream);
  if (s->capturing) return captureViolation(s, "cudaStreamQuery");
  return cudaSuccess;
}
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!stream) return reportError(cudaErrorStreamCaptureUnsupported, "inkling emulator: the legacy default stream cannot be captured");
  if (stream->capturing) return reportError(cudaErrorIllegalState, "inkling emulator: cudaStreamBeginCapture on a stream that is already capturing");
  stream->capturing = true;
  stream->mode = mode;
  stream->invalidated.clear();
  stream->nodes.clear();
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  std::lock_guard<std::mutex> lock(rt().mu);
  *graph = nullptr;
  if (!stream || !stream->capturing) return reportError(cudaErrorIllegalState, "inkling emulator: cudaStreamEndCapture on a stream that is not capturing");
  stream->capturing = false;
  if (!stream->invalidated.empty()) {
    stream->nodes.clear();
    return reportError(cudaErrorStreamCaptureInvalidated, "inkling emulator: the capture was invalidated by " + stream->invalidated);
  }
  auto* g = new CUgraph_st();
  g->nodes = std::move(stream->nodes);
  stream->nodes.clear();
  rt().graphs.insert(g);
  *graph = g;
  return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  CUstream_st* s = streamOf(stream);
  *status = !s->capturing ? cudaStreamCaptureStatusNone : s->invalidated.empty() ? cudaStreamCaptureStatusActive : cudaStreamCaptureStatusInvalidated;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  auto* e = new CUevent_st();
  e->flags = flags;
  std::lock_guard<std::mutex> lock(rt().mu);
  rt().events.insert(e);
  *event = e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventRecord of an unknown event");
  CUstream_st* s = streamOf(stream);
  if (s->capturing) {
    event->inCapture = true;
    s->nodes.push_back(Node{Node::Kind::EventRecord, {}, {}, {}, nullptr, nullptr, 0, cudaMemcpyDefault, 0, event});
    return cudaSuccess;
  }
  event->recorded = true;
  event->inCapture = false;
  event->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventQuery of an unknown event");
  if (event->inCapture) return captureViolation(nullptr, "cudaEventQuery of an event recorded in a capture");
  return cudaSuccess;  // all enqueued work has already run
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventSynchronize of an unknown event");
  if (event->inCapture) return captureViolation(nullptr, "cudaEventSynchronize of an event recorded in a capture");
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.count(start) || !rt().events.count(end)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventElapsedTime of an unknown event");
  if ((start->flags | end->flags) & cudaEventDisableTiming) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventElapsedTime of an event created with cudaEventDisableTiming");
  if (!start->recorded || !end->recorded) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventElapsedTime of an event never recorded");
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().events.erase(event)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaEventDestroy of an unknown event");
  delete event;
  return cudaSuccess;
}

// ---------------------------------------------------------------- graphs

cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().graphs.count(graph)) return reportError(cudaErrorInvalidValue, "inkling emulator: cudaGraphInstantiate of an unknown graph");
  auto* e = new CUgraphExec_st();
  e->nodes = graph->nodes;
  rt().execs.insert(e);
  *exec = e;
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  {
    std::lock_guard<std::mutex> lock(rt().mu);
    if (!rt().execs.count(exec)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaGraphLaunch of an unknown graph exec");
    if (streamOf(stream)->capturing) return reportError(cudaErrorStreamCaptureUnsupported, "inkling emulator: cudaGraphLaunch into a capturing stream is not supported by the emulator");
  }
  for (const Node& n : exec->nodes) {
    if (const cudaError_t e = runNode(n); e != cudaSuccess) return e;  // runNode recorded the message
  }
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().execs.erase(exec)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaGraphExecDestroy of an unknown graph exec");
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  std::lock_guard<std::mutex> lock(rt().mu);
  if (!rt().graphs.erase(graph)) return reportError(cudaErrorInvalidResourceHandle, "inkling emulator: cudaGraphDestroy of an unknown graph");
  delete graph;
  return cudaSuccess;
}

// ---------------------------------------------------------------- launches

namespace inkling::emu::cuda {

cudaError_t enqueueKernel(cudaStream_t stream, KernelInfo kernel, LaunchShape shape, std::function<void()> body) {
  const Dim3 g = shape.grid, b = shape.block;
  const unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
  std::string bad;
  if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z) bad = "a zero grid or block extent";
  else if (b.x > 1024 || b.y > 1024 || b.z > 64 || threads > 1024) bad = "a block of " + std::to_string(b.x) + "x" + std::to_string(b.y) + "x" + std::to_string(b.z) + " threads (sm_90 allows 1024x1024x64, at most 1024 in all)";
  else if (g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535) bad = "a grid of " + std::to_string(g.x) + "x" + std::to_string(g.y) + "x" + std::to_string(g.z) + " blocks (sm_90 allows 2^31-1 x 65535 x 65535)";
  else if (shape.dynamicSharedBytes > (48u << 10)) bad = std::to_string(shape.dynamicSharedBytes) + " bytes of dynamic shared memory (more than 48 KiB needs cudaFuncSetAttribute, which the emulator does not model)";
  if (!bad.empty()) {
    return reportError(cudaErrorInvalidConfiguration, "inkling emulator: kernel " + kernel.name + " launched at " + kernel.launchSite.file + ":" +
                                                   std::to_string(kernel.launchSite.line) + " with " + bad);
  }
  Node n{Node::Kind::Kernel, std::move(kernel), shape, std::move(body)};
  std::unique_lock<std::mutex> lock(rt().mu);
  CUstream_st* s = streamOf(stream);
  if (s->capturing) {
    s->nodes.push_back(std::move(n));
    return cudaSuccess;
  }
  lock.unlock();
  return runNode(n);
}

Stats stats() {
  std::lock_guard<std::mutex> lock(rt().mu);
  return Stats{rt().launches, rt().blocks, rt().threads};
}

std::string kernelNameFromSignature(const char* pretty) {
  // GCC: "... kernelName() [with auto Kernel = inkling::gemm::gemmTileKernel<...>; std::string = ...]"
  // Clang: "... kernelName() [Kernel = &inkling::gemm::gemmTileKernel<...>]"
  std::string s(pretty);
  size_t at = s.find("Kernel = ");
  if (at == std::string::npos) return s;
  at += 9;
  int depth = 0;
  size_t end = at;
  for (; end < s.size(); end++) {
    const char c = s[end];
    if (c == '<' || c == '(' || c == '[') depth++;
    else if (c == '>' || c == ')') depth--;
    else if (c == ']') {
      if (depth == 0) break;
      depth--;
    } else if (c == ';' && depth == 0) break;
  }
  std::string name = s.substr(at, end - at);
  if (!name.empty() && name[0] == '&') name.erase(0, 1);
  return name;
}

}  // namespace inkling::emu::cuda
