// Shared helpers for every CUDA kernel file: error checks, index math, the "hyper block".
//
// Errors: CUDA_CHECK throws inkling::CudaError carrying the call, file:line and cudaGetErrorString,
// so the addon turns it into a JavaScript exception with the CUDA error text (the dev harnesses
// catch it in main and exit 1).
//
// The hyper block: scalars that change every training step (Adam's step t, the learning rate,
// dropout's step) would be frozen into a captured CUDA graph if they were kernel arguments. The
// kernels that use them read a small device struct instead; the host rewrites it (with a tiny
// kernel, so no pinned host memory has to outlive the call) before each graph replay. In eager
// mode it holds {lrOverride = NaN, stepDelta = 0}, so the kernels use their own arguments.
//
// Two project macros keep the sources buildable both by nvcc and, as ordinary C++, by g++ for the
// SIMT emulator (native/emu/, whose <cuda_runtime.h> defines INKLING_CUDA_EMU):
//   INKLING_LAUNCH(grid, block, sharedBytes, stream, kernel)(args...)  is  kernel<<<grid, block,
//     sharedBytes, stream>>>(args...) under nvcc, and an emulated launch otherwise;
//   INKLING_DYNAMIC_SHARED(type, name);  in a kernel body is  extern __shared__ type name[];
// Device code (kernels, __device__ helpers) is compiled when INKLING_DEVICE_CODE is defined: by
// nvcc, and by the emulator build. The addon's .cpp files, compiled by the host compiler in the
// nvcc build, see only the host declarations.
#pragma once
#include <cuda_runtime.h>
#include <cstdint>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__) || defined(INKLING_CUDA_EMU)
#define INKLING_DEVICE_CODE 1
#endif

#if defined(__CUDACC__)
#define INKLING_LAUNCH(grid, block, sharedBytes, stream, ...) __VA_ARGS__<<<grid, block, sharedBytes, stream>>>
#define INKLING_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#elif defined(INKLING_CUDA_EMU)
#define INKLING_LAUNCH(grid, block, sharedBytes, stream, ...) INKLING_EMU_CUDA_LAUNCH(grid, block, sharedBytes, stream, __VA_ARGS__)
#define INKLING_DYNAMIC_SHARED(type, name) INKLING_EMU_DYNAMIC_SHARED(type, name)
#endif

namespace inkling {

struct CudaError : std::runtime_error {
  explicit CudaError(const std::string& what) : std::runtime_error(what) {}
};

inline void cudaCheck(cudaError_t err, const char* call, const char* file, int line) {
  if (err != cudaSuccess) {
    throw CudaError(std::string("CUDA error: ") + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ") in " +
                    call + " at " + file + ":" + std::to_string(line));
  }
}

// Device-side dynamic scalars (see the header comment).
struct HyperBlock {
  float lrOverride;     // NaN: use the kernel's own lr argument
  uint32_t stepDelta;   // added to Adam's t and dropout's step
};

// Everything a launcher needs besides its operands.
struct LaunchEnv {
  cudaStream_t stream;
  const HyperBlock* hyper;  // device pointer, never null inside the addon
  int numSMs;
  // Scratch memory valid until the enqueued work that uses it has run (the addon's caching
  // allocator hands it out and takes it back after the launch: single stream, so stream order
  // keeps it safe). Returns a device pointer to at least `bytes` bytes.
  void* (*scratch)(void* self, size_t bytes);
  void* scratchSelf;
  void* getScratch(size_t bytes) const { return scratch(scratchSelf, bytes); }
};

}  // namespace inkling

#define CUDA_CHECK(call) ::inkling::cudaCheck((call), #call, __FILE__, __LINE__)
#define CUDA_CHECK_LAUNCH() ::inkling::cudaCheck(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

static inline int ceilDiv(long long a, long long b) { return (int)((a + b - 1) / b); }

// Grid size for a grid-stride elementwise kernel: enough blocks to fill the GPU a few times over.
static inline int elementwiseBlocks(long long n, int threads, int numSMs) {
  long long want = (n + threads - 1) / threads;
  long long cap = (long long)numSMs * 32;
  if (want < 1) want = 1;
  return (int)(want < cap ? want : cap);
}

#ifdef INKLING_DEVICE_CODE
__device__ __forceinline__ float effectiveLr(const inkling::HyperBlock* h, float lr) {
  float o = h->lrOverride;
  return o == o ? o : lr;  // NaN check without isnan (fast-math safe)
}
#endif

#ifdef INKLING_DEVICE_CODE
// Sum over a block (blockDim.x a multiple of 32, at most 1024) with a fixed shuffle tree: the
// same inputs in the same threads always give the same bits. Result valid in thread 0.
__device__ __forceinline__ float warpReduceSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}
// static: one copy per translation unit (what nvcc does for device code anyway). The emulator build
// needs it: GCC cannot place the __shared__ array of an inline (COMDAT) function and those of the
// TU's own kernels in one section ("section type conflict"; native/emu/README.md).
static __device__ __forceinline__ float blockReduceSum(float v) {
  __shared__ float warpSums[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warpReduceSum(v);
  __syncthreads();  // warpSums may still be read by a previous call
  if (lane == 0) warpSums[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) >> 5;
  v = threadIdx.x < warps ? warpSums[threadIdx.x] : 0.f;
  if (warp == 0) v = warpReduceSum(v);
  return v;
}

// Grid-stride loop over [0, n).
#define GRID_STRIDE_LOOP(i, n) \
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)
#endif

// Chunks per channel for the two-pass per-channel reductions (reduce.cu, batchnorm.cu): enough
// blocks to cover the SMs twice, each chunk at least 2048 elements, at most 64 chunks.
static inline int channelChunks(int channels, long long perChannel, int numSMs) {
  long long want = (2LL * numSMs + channels - 1) / channels;
  long long byWork = (perChannel + 2047) / 2048;
  long long c = want < byWork ? want : byWork;
  if (c > 64) c = 64;
  return c < 1 ? 1 : (int)c;
}
