// Shared state of the emulated CUDA runtime (runtime.cc, runtime_memory.cc, runtime_streams.cc):
// the recorded work nodes, the objects behind the opaque handles, the error state. Internal.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "../core/device_memory.h"
#include "runtime.h"

namespace inkling::emu::cuda::detail {

/** One unit of stream work: run at once, or recorded while its stream captures. */
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


}  // namespace inkling::emu::cuda::detail

struct CUstream_st {
  unsigned flags = 0;
  bool capturing = false;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::string invalidated;  // why the capture is no longer valid ("" while valid)
  std::vector<inkling::emu::cuda::detail::Node> nodes;
};
struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  bool inCapture = false;  // recorded into a capture that has not been launched
  std::chrono::steady_clock::time_point when{};
};
struct CUgraph_st {
  std::vector<inkling::emu::cuda::detail::Node> nodes;
};
struct CUgraphExec_st {
  std::vector<inkling::emu::cuda::detail::Node> nodes;
};

namespace inkling::emu::cuda::detail {

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

RuntimeState& rt();

/** Records `code` as the pending error (for cudaGetLastError) with the emulator's full message. */
cudaError_t reportError(cudaError_t code, const std::string& message);
cudaError_t pendingError(bool clear);
/** The full message of the last error, if `code` is its code. */
const char* errorDetail(cudaError_t code);
std::string hexPtr(const void* p);
CUstream_st* streamOf(cudaStream_t s);
/** Whether any stream captures; `strictest` gets a non-relaxed mode if one captures in it. */
bool anyCapture(cudaStreamCaptureMode* strictest);
/** A capture-unsafe call while `s` (or, null, any stream) captures: fails and invalidates. */
cudaError_t captureViolation(CUstream_st* s, const std::string& call);
bool pinnedRange(const void* p, size_t bytes);
/** The device range [p, p + bytes) must lie in one live allocation; `why` says otherwise. */
bool checkDeviceRange(const char* call, const char* which, const void* p, size_t bytes, std::string* why);
bool isDevice(const void* p);
cudaError_t runNode(const Node& n);
int smCount();
size_t deviceLimit();

}  // namespace inkling::emu::cuda::detail
