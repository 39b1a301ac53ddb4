// The emulator's self-test: each check runs a small kernel through the emulated CUDA runtime and
// prints one line, `ok <name>` or `FAIL <name>: <why>`. Half of them are planted bugs that the
// emulator must report (divergent barriers, bad masks, unwritten shared memory, writes past a
// buffer, deadlocks...), so a checker that silently stopped checking fails here.
// Built and run by test/cuda-emu/emulator.stage.ts (scripts/cuda-emu/build.mjs, buildEmuProgram):
//   the same file under INKLING_EMU_MODE=threads and INKLING_EMU_ORDER=reverse gives the same lines.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common.cuh"
#include "gemm_tile.cuh"

namespace {

int failures = 0;

void check(const char* name, bool ok, const std::string& why = "") {
  std::printf("%s %s%s%s\n", ok ? "ok" : "FAIL", name, ok ? "" : ": ", ok ? "" : why.c_str());
  if (!ok) failures++;
}

// The launch's error (cudaGetLastError) and its message.
struct Outcome {
  cudaError_t code;
  std::string message;
};
Outcome outcome() {
  const cudaError_t e = cudaGetLastError();
  return Outcome{e, e == cudaSuccess ? "" : cudaGetErrorString(e)};
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

template <class T>
struct Buf {
  T* d = nullptr;
  size_t n;
  explicit Buf(size_t count) : n(count) { cudaMalloc(&d, n * sizeof(T)); }
  ~Buf() { cudaFree(d); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }
  void set(const std::vector<T>& h) { cudaMemcpy(d, h.data(), n * sizeof(T), cudaMemcpyHostToDevice); }
};

// ---------------------------------------------------------------- kernels: correct behaviour

__global__ void shuffleKernel(int* out) {
  const int lane = threadIdx.x;
  out[0 * 32 + lane] = __shfl_down_sync(0xffffffffu, lane, 1);
  out[1 * 32 + lane] = __shfl_up_sync(0xffffffffu, lane, 2, 8);
  out[2 * 32 + lane] = __shfl_xor_sync(0xffffffffu, lane, 5);
  out[3 * 32 + lane] = __shfl_sync(0xffffffffu, lane, 3, 16);
  out[4 * 32 + lane] = static_cast<int>(__ballot_sync(0xffffffffu, lane % 3 == 0));
  out[5 * 32 + lane] = __any_sync(0xffffffffu, lane == 17) + 2 * __all_sync(0xffffffffu, lane < 31);
  out[6 * 32 + lane] = static_cast<int>(__reduce_add_sync(0xffffffffu, static_cast<unsigned>(lane)));
  // Two half-warp collectives at once, with disjoint masks.
  const unsigned half = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  out[7 * 32 + lane] = __shfl_sync(half, lane * 10, lane < 16 ? 0 : 16);
}

__global__ void blockSumKernel(const float* x, float* out, int n) {
  float s = 0.f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) s += x[i];
  s = blockReduceSum(s);
  if (threadIdx.x == 0) out[0] = s;
}

__global__ void atomicKernel(int* count, float* sum) {
  atomicAdd(count, 1);
  atomicAdd(sum, 0.5f);
}

// Reads a shared slot no thread wrote: must see the poison (NaN).
__global__ void unwrittenSharedKernel(float* out) {
  __shared__ float tile[64];
  if (threadIdx.x < 32) tile[threadIdx.x] = 1.f;  // only the first half is written
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

__global__ void dynamicSharedKernel(float* out) {
  INKLING_DYNAMIC_SHARED(float, tile);
  tile[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = tile[blockDim.x - 1 - threadIdx.x];
}

__global__ void copyKernel(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i];
}

// A missing barrier planted on purpose: each thread reads its neighbour's slot right after
// writing its own.
__global__ void racyKernel(int* out) {
  __shared__ int slot[64];
  slot[threadIdx.x] = static_cast<int>(threadIdx.x);
  out[threadIdx.x] = slot[(threadIdx.x + 1) % 64];
}

__global__ void tf32Kernel(const float* in, float* out, int n) {
  for (int i = 0; i < n; i++) out[i] = inkling::gemm::roundToTf32(in[i]);
}

// One warp: A (16×8) and B (8×8) loaded into PTX fragments, one MMA, D written back row-major.
__global__ void mmaKernel(const float* A, const float* B, float* D) {
  const int lane = threadIdx.x, g = lane >> 2, t = lane & 3;
  uint32_t a[4] = {__float_as_uint(A[g * 8 + t]), __float_as_uint(A[(g + 8) * 8 + t]), __float_as_uint(A[g * 8 + t + 4]),
                   __float_as_uint(A[(g + 8) * 8 + t + 4])};
  uint32_t b[2] = {__float_as_uint(B[t * 8 + g]), __float_as_uint(B[(t + 4) * 8 + g])};
  float c[4] = {0.f, 0.f, 0.f, 0.f};
  inkling::gemm::mmaTf32(c, a, b);
  D[g * 8 + 2 * t] = c[0];
  D[g * 8 + 2 * t + 1] = c[1];
  D[(g + 8) * 8 + 2 * t] = c[2];
  D[(g + 8) * 8 + 2 * t + 1] = c[3];
}

// ---------------------------------------------------------------- kernels: planted bugs

__global__ void divergentBarrierKernel(float* out) {
  if (threadIdx.x < 64) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.f;
}

__global__ void earlyExitKernel(float* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1.f;
}

__global__ void maskWithoutSelfKernel(int* out) {
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, static_cast<int>(threadIdx.x), 0);  // lanes 16-31 are not in it
}

__global__ void exitedLaneKernel(int* out) {
  if (threadIdx.x == 7) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, static_cast<int>(threadIdx.x), 1);
}

__global__ void deadlockKernel(int* out) {
  if (threadIdx.x == 3) __syncthreads();
  else __syncwarp();
  out[threadIdx.x] = 1;
}

__global__ void writePastKernel(float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = 2.f;  // one element too many
}

__global__ void writeBeforeKernel(float* out) {
  if (threadIdx.x == 0) out[-1] = 2.f;
}

__global__ void trapKernel() {
  if (threadIdx.x == 9) __trap();
}

__global__ void noopKernel() {}

void launchOk(const char* name) {
  const Outcome o = outcome();
  check(name, o.code == cudaSuccess, o.message);
}

void expectError(const char* name, cudaError_t code, std::initializer_list<const char*> parts) {
  const Outcome o = outcome();
  bool ok = o.code == code;
  for (const char* p : parts) ok = ok && contains(o.message, p);
  check(name, ok, "got " + std::string(cudaGetErrorName(o.code)) + ": " + o.message);
}

}  // namespace

int main() {
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);

  // ---- correct behaviour ----
  {
    Buf<int> out(8 * 32);
    INKLING_LAUNCH(1, 32, 0, s, shuffleKernel)(out.d);
    launchOk("shuffle kernel runs");
    const auto h = out.get();
    bool down = true, up = true, bfly = true, idx = true, ballot = true, vote = true, reduce = true, halves = true;
    unsigned expectBallot = 0;
    for (int l = 0; l < 32; l += 3) expectBallot |= 1u << l;
    for (int l = 0; l < 32; l++) {
      down &= h[l] == (l < 31 ? l + 1 : l);
      up &= h[32 + l] == (l % 8 >= 2 ? l - 2 : l);
      bfly &= h[64 + l] == (l ^ 5);
      idx &= h[96 + l] == (l & ~15) + 3;
      ballot &= static_cast<unsigned>(h[128 + l]) == expectBallot;
      vote &= h[160 + l] == 1;  // any(lane == 17) = 1, all(lane < 31) = 0
      reduce &= h[192 + l] == 496;
      halves &= h[224 + l] == (l < 16 ? 0 : 160);
    }
    check("__shfl_down_sync returns the own value past the warp end", down);
    check("__shfl_up_sync with width 8 stays in its segment", up);
    check("__shfl_xor_sync", bfly);
    check("__shfl_sync with width 16 reads lane 3 of its segment", idx);
    check("__ballot_sync", ballot);
    check("__any_sync and __all_sync", vote);
    check("__reduce_add_sync", reduce);
    check("two half-warp shuffles with disjoint masks at once", halves);
  }
  {
    const int n = 1000;
    std::vector<float> x(n);
    double want = 0;
    for (int i = 0; i < n; i++) want += (x[i] = static_cast<float>((i * 37) % 11) - 5.f);
    Buf<float> dx(n), out(1);
    dx.set(x);
    INKLING_LAUNCH(1, 256, 0, s, blockSumKernel)(dx.d, out.d, n);
    launchOk("blockReduceSum kernel runs");
    check("blockReduceSum (common.cuh) sums exactly", out.get()[0] == static_cast<float>(want));
  }
  {
    Buf<int> count(1);
    Buf<float> sum(1);
    cudaMemset(count.d, 0, sizeof(int));
    cudaMemset(sum.d, 0, sizeof(float));
    INKLING_LAUNCH(8, 128, 0, s, atomicKernel)(count.d, sum.d);
    launchOk("atomics kernel runs");
    check("atomicAdd from 1024 threads", count.get()[0] == 1024 && sum.get()[0] == 512.f);
  }
  {
    Buf<float> out(64);
    INKLING_LAUNCH(1, 64, 0, s, unwrittenSharedKernel)(out.d);
    launchOk("unwritten-shared kernel runs");
    const auto h = out.get();
    check("shared memory nobody wrote reads as NaN (poisoned before each block)", h[0] == 1.f && std::isnan(h[40]));
  }
  {
    Buf<float> out(128);
    INKLING_LAUNCH(1, 128, 128 * sizeof(float), s, dynamicSharedKernel)(out.d);
    launchOk("dynamic shared memory kernel runs");
    check("INKLING_DYNAMIC_SHARED gives the block its dynamic shared memory", out.get()[0] == 127.f && out.get()[127] == 0.f);
  }
  {
    Buf<float> fresh(16), out(16);
    INKLING_LAUNCH(1, 16, 0, s, copyKernel)(fresh.d, out.d, 16);
    launchOk("copy kernel runs");
    check("fresh device memory reads as NaN (cudaMalloc poisons it)", std::isnan(out.get()[3]));
  }
  {
    // Fibers run to the next barrier in the chosen order, so a missing barrier reads the poison
    // (−1) in forward order at thread 0 and in reverse order at thread 63.
    Buf<int> out(64);
    INKLING_LAUNCH(1, 64, 0, s, racyKernel)(out.d);
    launchOk("racy kernel runs");
    const char* order = std::getenv("INKLING_EMU_ORDER");
    const char* mode = std::getenv("INKLING_EMU_MODE");
    const bool fibers = !mode || std::strcmp(mode, "threads") != 0;
    const bool reverse = order && std::strcmp(order, "reverse") == 0;
    const auto h = out.get();
    if (fibers) {
      check("a missing barrier reads poison, where the order says", reverse ? (h[63] == -1 && h[0] == 1) : (h[0] == -1 && h[63] == 0),
            std::to_string(h[0]) + " " + std::to_string(h[63]));
    }
  }
  {
    const float half = std::ldexp(1.f, -11), ulp = std::ldexp(1.f, -10);
    std::vector<float> in = {1.f + half, -(1.f + half), 1.f + half - std::ldexp(1.f, -23), 1.f + 3 * half, INFINITY, 0x1.fffffep127f};
    Buf<float> din(in.size()), dout(in.size());
    din.set(in);
    INKLING_LAUNCH(1, 1, 0, s, tf32Kernel)(din.d, dout.d, static_cast<int>(in.size()));
    launchOk("tf32 rounding kernel runs");
    const auto h = dout.get();
    check("cvt.rna.tf32 twin rounds ties away from zero", h[0] == 1.f + ulp && h[1] == -(1.f + ulp), std::to_string(h[0]));
    check("cvt.rna.tf32 twin rounds below a tie down, and 1.5 ulp to 2 ulp", h[2] == 1.f && h[3] == 1.f + 2 * ulp);
    check("cvt.rna.tf32 twin keeps infinity and rounds the largest float to infinity", std::isinf(h[4]) && std::isinf(h[5]));
  }
  {
    // Values exact in TF32 (small integers / 4), so the product is exact and must match a CPU loop.
    std::vector<float> A(16 * 8), B(8 * 8), want(16 * 8, 0.f);
    for (int i = 0; i < 128; i++) A[i] = static_cast<float>((i * 7) % 9 - 4) / 4.f;
    for (int i = 0; i < 64; i++) B[i] = static_cast<float>((i * 5) % 7 - 3) / 4.f;
    for (int r = 0; r < 16; r++)
      for (int c = 0; c < 8; c++)
        for (int k = 0; k < 8; k++) want[r * 8 + c] += A[r * 8 + k] * B[k * 8 + c];
    Buf<float> dA(128), dB(64), dD(128);
    dA.set(A);
    dB.set(B);
    INKLING_LAUNCH(1, 32, 0, s, mmaKernel)(dA.d, dB.d, dD.d);
    launchOk("mma.sync twin kernel runs");
    check("mma.sync.m16n8k8 twin computes A·B from the PTX fragment layout", dD.get() == want);
  }

  // ---- planted bugs: each must be reported, naming the kernel and the source line ----
  {
    Buf<float> out(128);
    INKLING_LAUNCH(1, 128, 0, s, divergentBarrierKernel)(out.d);
    expectError("divergent __syncthreads is reported with both lines", cudaErrorLaunchFailure,
                {"divergentBarrierKernel", "divergent barrier", "selftest.cu:", "selftest.cu:"});
    INKLING_LAUNCH(1, 64, 0, s, earlyExitKernel)(out.d);
    expectError("a thread exiting while others wait at __syncthreads is reported", cudaErrorLaunchFailure,
                {"earlyExitKernel", "thread 5", "exited"});
  }
  {
    Buf<int> out(64);
    INKLING_LAUNCH(1, 32, 0, s, maskWithoutSelfKernel)(out.d);
    expectError("a shuffle whose mask leaves out the caller is reported", cudaErrorLaunchFailure,
                {"maskWithoutSelfKernel", "does not include itself", "__shfl_sync"});
    INKLING_LAUNCH(1, 32, 0, s, exitedLaneKernel)(out.d);
    expectError("a full-mask shuffle after a lane exited is reported", cudaErrorLaunchFailure, {"exitedLaneKernel", "lane"});
    INKLING_LAUNCH(1, 32, 0, s, deadlockKernel)(out.d);
    expectError("a deadlock (one lane at __syncthreads, the others at __syncwarp) is reported", cudaErrorLaunchFailure,
                {"deadlockKernel", "deadlock", "__syncwarp"});
  }
  {
    Buf<float> out(100), guardProbe(4);
    INKLING_LAUNCH(1, 128, 0, s, writePastKernel)(out.d, 100);
    expectError("a write one element past a device buffer is reported with the kernel and the buffer", cudaErrorIllegalAddress,
                {"writePastKernel", "past the end", "400 bytes", "bytes +0 to +3"});
    INKLING_LAUNCH(1, 32, 0, s, writeBeforeKernel)(out.d);
    expectError("a write before a device buffer is reported", cudaErrorIllegalAddress, {"writeBeforeKernel", "before the start"});
    INKLING_LAUNCH(1, 32, 0, s, noopKernel)();
    launchOk("the guards are repaired after a report (the next launch is clean)");
  }
  {
    INKLING_LAUNCH(1, 32, 0, s, trapKernel)();
    expectError("__trap() is reported with its line", cudaErrorLaunchFailure, {"trapKernel", "__trap", "selftest.cu:"});
    INKLING_LAUNCH(1, 2048, 0, s, noopKernel)();
    expectError("a block of 2048 threads is refused", cudaErrorInvalidConfiguration, {"noopKernel", "2048"});
    INKLING_LAUNCH(dim3(1, 70000), 32, 0, s, noopKernel)();
    expectError("a grid.y of 70000 is refused", cudaErrorInvalidConfiguration, {"70000"});
  }
  {
    Buf<float> small(10);
    std::vector<float> host(16, 1.f);
    cudaError_t e = cudaMemcpyAsync(small.d, host.data(), 16 * sizeof(float), cudaMemcpyHostToDevice, s);
    check("a copy that overruns its device buffer is refused, naming the buffer", e == cudaErrorInvalidValue &&
          contains(cudaGetErrorString(e), "overruns") && contains(cudaGetErrorString(e), "40 bytes"), cudaGetErrorString(e));
    (void)cudaGetLastError();
    e = cudaFree(small.d + 1);
    check("cudaFree of a pointer inside a buffer is refused", e == cudaErrorInvalidValue);
    (void)cudaGetLastError();
  }

  // ---- events, capture and replay ----
  {
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaEventRecord(a, s);
    INKLING_LAUNCH(4, 256, 0, s, noopKernel)();
    cudaEventRecord(b, s);
    float ms = -1;
    check("events: query, synchronize, elapsed time", cudaEventQuery(b) == cudaSuccess && cudaEventSynchronize(b) == cudaSuccess &&
          cudaEventElapsedTime(&ms, a, b) == cudaSuccess && ms >= 0.f);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
  }
  {
    Buf<float> x(64), y(64);
    float* pinnedIn = nullptr;
    float* pinnedOut = nullptr;
    cudaMallocHost(&pinnedIn, 64 * sizeof(float));
    cudaMallocHost(&pinnedOut, 64 * sizeof(float));
    for (int i = 0; i < 64; i++) pinnedIn[i] = static_cast<float>(i);
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed);
    cudaMemcpyAsync(x.d, pinnedIn, 64 * sizeof(float), cudaMemcpyHostToDevice, s);
    INKLING_LAUNCH(1, 64, 0, s, copyKernel)(x.d, y.d, 64);
    cudaMemcpyAsync(pinnedOut, y.d, 64 * sizeof(float), cudaMemcpyDeviceToHost, s);
    const bool captured = cudaStreamEndCapture(s, &graph) == cudaSuccess && cudaGraphInstantiateWithFlags(&exec, graph, 0) == cudaSuccess;
    check("a capture records nothing until the graph runs", captured && std::isnan(y.get()[5]));
    for (int i = 0; i < 64; i++) pinnedIn[i] = static_cast<float>(2 * i);
    const bool replay1 = cudaGraphLaunch(exec, s) == cudaSuccess && pinnedOut[5] == 10.f;
    for (int i = 0; i < 64; i++) pinnedIn[i] = static_cast<float>(3 * i);
    const bool replay2 = cudaGraphLaunch(exec, s) == cudaSuccess && pinnedOut[5] == 15.f;
    check("graph replays re-read pinned inputs and rerun the kernel", replay1 && replay2);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);

    std::vector<float> pageable(64, 1.f);
    cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed);
    const cudaError_t e1 = cudaMemcpyAsync(x.d, pageable.data(), 64 * sizeof(float), cudaMemcpyHostToDevice, s);
    const cudaError_t e2 = cudaStreamEndCapture(s, &graph);
    check("a captured copy from pageable memory is refused and invalidates the capture",
          e1 == cudaErrorStreamCaptureUnsupported && e2 == cudaErrorStreamCaptureInvalidated && graph == nullptr);
    cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed);
    const cudaError_t e3 = cudaStreamSynchronize(s);
    const cudaError_t e4 = cudaStreamEndCapture(s, &graph);
    check("cudaStreamSynchronize during a capture invalidates it", e3 == cudaErrorStreamCaptureUnsupported && e4 == cudaErrorStreamCaptureInvalidated);
    void* p = nullptr;
    cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal);
    const cudaError_t e5 = cudaMalloc(&p, 16);
    const cudaError_t e6 = cudaStreamEndCapture(s, &graph);
    check("cudaMalloc during a global-mode capture is refused (relaxed mode allows it)", e5 == cudaErrorStreamCaptureUnsupported && e6 == cudaErrorStreamCaptureInvalidated);
    cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed);
    const cudaError_t e7 = cudaMalloc(&p, 16);
    const cudaError_t e8 = cudaStreamEndCapture(s, &graph);
    check("cudaMalloc during a relaxed-mode capture is allowed", e7 == cudaSuccess && e8 == cudaSuccess);
    cudaFree(p);
    cudaGraphDestroy(graph);
    (void)cudaGetLastError();
    cudaFreeHost(pinnedIn);
    cudaFreeHost(pinnedOut);
  }
  cudaStreamDestroy(s);
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
