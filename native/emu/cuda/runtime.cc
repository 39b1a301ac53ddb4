// The emulated CUDA runtime (see runtime.h for what it promises): errors, the device, graphs and
// kernel launches; memory is in runtime_memory.cc, streams and events in runtime_streams.cc.
//
// Checks beyond what a GPU reports at the call: every copy and memset must lie inside one live
// device allocation (a GPU may silently corrupt a neighbour instead); a launch's configuration is
// checked against sm_90's limits; after every kernel, every allocation's guard bytes are checked
// (the kernel that overran is named); during a stream capture, synchronising calls invalidate the
// capture as CUDA's do, and a captured host↔device copy must use pinned memory (the graph re-reads
// that host address on every replay; pageable memory may be reused by then).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime_state.h"

namespace inkling::emu::cuda::detail {

RuntimeState& rt() {
  static RuntimeState* s = new RuntimeState();  // never destroyed: frees may come after static dtors
  return *s;
}

namespace {
thread_local cudaError_t tPending = cudaSuccess;
thread_local cudaError_t tDetailCode = cudaSuccess;
thread_local std::string tDetail;
}  // namespace

cudaError_t pendingError(bool clear) {
  const cudaError_t e = tPending;
  if (clear) tPending = cudaSuccess;
  return e;
}

const char* errorDetail(cudaError_t code) {
  return code != cudaSuccess && code == tDetailCode && !tDetail.empty() ? tDetail.c_str() : nullptr;
}

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

namespace {

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

}  // namespace

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

}  // namespace inkling::emu::cuda::detail

using namespace inkling::emu::cuda::detail;

// ---------------------------------------------------------------- errors and device

const char* cudaGetErrorString(cudaError_t error) {
  const char* detail = errorDetail(error);
  return detail ? detail : errorText(error);
}
const char* cudaGetErrorName(cudaError_t error) { return errorName(error); }
cudaError_t cudaGetLastError() { return pendingError(true); }
cudaError_t cudaPeekAtLastError() { return pendingError(false); }

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
