// The host side of CUDA, emulated: the subset of the CUDA runtime API that native/cuda uses
// (memory, async copies on streams, events, stream capture and graphs, device properties), with
// CUDA's names, types and error codes, plus the kernel launch behind INKLING_LAUNCH.
//
// Work is executed when it is enqueued (stream order is program order: there is one host thread
// of work), except while a stream captures, when it is recorded into the graph instead and runs
// at cudaGraphLaunch. Every kernel launch is followed by a check of every device allocation's
// guard bytes. Errors are reported by the call that caused them (a launch error by the
// cudaGetLastError after it, a replayed kernel's by cudaGraphLaunch) and are not sticky: the
// emulator keeps working after reporting one, so one failing test does not fail the next.
// cudaGetErrorString returns the emulator's full message (kernel, block, threads, source lines)
// for the most recent error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/simt.h"
#include "device.h"

#define CUDART_VERSION 13000

enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorAssert = 710,
  cudaErrorLaunchFailure = 719,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureImplicit = 906,
  cudaErrorUnknown = 999,
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1, cudaStreamCaptureModeRelaxed = 2 };
enum cudaStreamCaptureStatus { cudaStreamCaptureStatusNone = 0, cudaStreamCaptureStatusActive = 1, cudaStreamCaptureStatusInvalidated = 2 };

constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
constexpr unsigned cudaEventDefault = 0, cudaEventBlockingSync = 1, cudaEventDisableTiming = 2;
constexpr unsigned cudaHostAllocDefault = 0;

struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
typedef CUgraph_st* cudaGraph_t;
typedef CUgraphExec_st* cudaGraphExec_t;

/** The fields of CUDA's cudaDeviceProp that code reads, describing an H100 SXM (sm_90). */
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int clockRate;
  size_t totalConstMem;
  int major;
  int minor;
  int multiProcessorCount;
  int memoryClockRate;
  int memoryBusWidth;
  int l2CacheSize;
  int maxThreadsPerMultiProcessor;
  size_t sharedMemPerMultiprocessor;
  size_t sharedMemPerBlockOptin;
  int regsPerMultiprocessor;
  int concurrentKernels;
  int asyncEngineCount;
  int unifiedAddressing;
};

const char* cudaGetErrorString(cudaError_t error);
const char* cudaGetErrorName(cudaError_t error);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaDeviceReset();

cudaError_t cudaMalloc(void** ptr, size_t bytes);
template <class T>
inline cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocHost(void** ptr, size_t bytes);
template <class T>
inline cudaError_t cudaMallocHost(T** ptr, size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream = nullptr);

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status);

cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaEventDestroy(cudaEvent_t event);

cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);

namespace inkling::emu::cuda {

/** Runs (or, while `stream` captures, records) one kernel launch; the error is also left for
 *  cudaGetLastError, as a failed <<<>>> launch leaves it. */
cudaError_t enqueueKernel(cudaStream_t stream, KernelInfo kernel, LaunchShape shape, std::function<void()> body);

/** Counters since the process started (for benchmarks and tests of the emulator itself). */
struct Stats {
  unsigned long long launches, blocks, threads;
};
Stats stats();

/** The instantiation's name from the compiler: "inkling::gemm::gemmTileKernel<...>". */
std::string kernelNameFromSignature(const char* prettyFunction);

template <auto Kernel>
const std::string& kernelName() {
  static const std::string name = kernelNameFromSignature(__PRETTY_FUNCTION__);
  return name;
}

/** The object INKLING_LAUNCH(...) makes; calling it with the kernel's arguments launches. The
 *  arguments are converted to the kernel's parameter types and copied once, as CUDA copies them
 *  into the parameter space; each emulated thread calls the kernel with its own copy. */
template <class... Params>
struct KernelLaunch {
  void (*kernel)(Params...);
  const std::string* name;
  SourceSite site;
  dim3 grid, block;
  size_t sharedBytes;
  cudaStream_t stream;

  template <class... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "kernel launched with the wrong number of arguments");
    auto k = kernel;
    std::tuple<std::decay_t<Params>...> params(static_cast<std::decay_t<Params>>(std::forward<Args>(args))...);
    enqueueKernel(stream, KernelInfo{*name, site},
                  LaunchShape{Dim3{grid.x, grid.y, grid.z}, Dim3{block.x, block.y, block.z}, sharedBytes},
                  [k, params]() { std::apply(k, params); });
  }
};

template <class... Params>
KernelLaunch<Params...> makeLaunch(void (*kernel)(Params...), const std::string& name, SourceSite site, dim3 grid, dim3 block,
                                   size_t sharedBytes, cudaStream_t stream) {
  return KernelLaunch<Params...>{kernel, &name, site, grid, block, sharedBytes, stream};
}

}  // namespace inkling::emu::cuda

/** `INKLING_LAUNCH(grid, block, sharedBytes, stream, kernel)(args...)`, see native/cuda/common.cuh. */
#define INKLING_EMU_CUDA_LAUNCH(grid, block, sharedBytes, stream, ...)                                               \
  ::inkling::emu::cuda::makeLaunch(&__VA_ARGS__, ::inkling::emu::cuda::kernelName<&__VA_ARGS__>(), INKLING_EMU_SITE, \
                                   (grid), (block), (sharedBytes), (stream))
