// Two planted bugs that the sanitizer builds must report, naming the kernel (so the sanitizer stage
// can fail): `planted race` (a missing __syncthreads between a shared-memory write and another
// thread's read; ThreadSanitizer, OS-thread mode) and `planted overread` (a read one element past a
// device buffer; AddressSanitizer, whose poisoned guard zone sits right after every allocation).
#include <cstdio>
#include <cstring>

#include "common.cuh"

__global__ void missingBarrierKernel(float* out) {
  __shared__ float tile[64];
  tile[threadIdx.x] = static_cast<float>(threadIdx.x);
  out[threadIdx.x] = tile[(threadIdx.x + 1) % 64];  // no __syncthreads() before reading a neighbour's slot
}

__global__ void readPastKernel(const float* x, float* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = x[i + 1];  // x[n] for the last thread
}

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  float* x = nullptr;
  float* out = nullptr;
  cudaMalloc(&x, 64 * sizeof(float));
  cudaMalloc(&out, 64 * sizeof(float));
  cudaMemset(x, 0, 64 * sizeof(float));
  if (!std::strcmp(what, "race")) INKLING_LAUNCH(1, 64, 0, 0, missingBarrierKernel)(out);
  else if (!std::strcmp(what, "overread")) INKLING_LAUNCH(1, 64, 0, 0, readPastKernel)(x, out, 64);
  else {
    std::fprintf(stderr, "usage: planted race|overread\n");
    return 2;
  }
  const cudaError_t e = cudaGetLastError();
  std::printf("launch: %s\n", cudaGetErrorName(e));
  cudaFree(x);
  cudaFree(out);
  return 0;
}
