// Shared bits of the standalone dev harnesses (gemm_check.cu, kernels_check.cu): a LaunchEnv with
// a simple scratch arena, random data, device buffers, comparison and timing helpers.
// The harnesses #include the kernel .cu files directly, so each is one nvcc command.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "../kernels.h"

namespace dev {

struct Scratch {
  std::vector<void*> blocks;
  static void* get(void* self, size_t bytes) {
    void* p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, bytes));
    static_cast<Scratch*>(self)->blocks.push_back(p);
    return p;
  }
  void clear() {
    for (void* p : blocks) cudaFree(p);
    blocks.clear();
  }
};

struct Env {
  Scratch scratch;
  inkling::HyperBlock* hyper = nullptr;
  int numSMs = 0;
  Env() {
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    numSMs = prop.multiProcessorCount;
    printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor, numSMs);
    inkling::HyperBlock h{NAN, 0};
    CUDA_CHECK(cudaMalloc(&hyper, sizeof(h)));
    CUDA_CHECK(cudaMemcpy(hyper, &h, sizeof(h), cudaMemcpyHostToDevice));
  }
  inkling::LaunchEnv launch() { return inkling::LaunchEnv{0, hyper, numSMs, &Scratch::get, &scratch}; }
};

inline std::vector<float> randomVector(size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  unsigned s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * (float)(s >> 8) / 16777216.f;
  }
  return v;
}

template <class T>
struct DeviceVec {
  T* ptr = nullptr;
  size_t n = 0;
  explicit DeviceVec(size_t count) : n(count) { CUDA_CHECK(cudaMalloc(&ptr, sizeof(T) * (n ? n : 1))); CUDA_CHECK(cudaMemset(ptr, 0, sizeof(T) * (n ? n : 1))); }
  explicit DeviceVec(const std::vector<T>& h) : DeviceVec(h.size()) { CUDA_CHECK(cudaMemcpy(ptr, h.data(), sizeof(T) * n, cudaMemcpyHostToDevice)); }
  ~DeviceVec() { cudaFree(ptr); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    CUDA_CHECK(cudaMemcpy(h.data(), ptr, sizeof(T) * n, cudaMemcpyDeviceToHost));
    return h;
  }
  DeviceVec(const DeviceVec&) = delete;
  DeviceVec& operator=(const DeviceVec&) = delete;
};

// Normalised max error max|got − want| / max(max|want|, 1e-30), as the conformance table uses.
inline bool compare(const char* what, const std::vector<float>& got, const std::vector<float>& want, double tol) {
  double maxDiff = 0, maxRef = 0;
  size_t worst = 0;
  for (size_t i = 0; i < want.size(); i++) {
    double d = std::fabs((double)got[i] - want[i]);
    if (!(d <= maxDiff)) { maxDiff = d; worst = i; }
    maxRef = std::fmax(maxRef, std::fabs((double)want[i]));
  }
  double err = maxDiff / (maxRef > 1e-30 ? maxRef : 1e-30);
  bool ok = err <= tol;
  printf("  %-58s %s  norm err %.2e (tol %.0e)%s\n", what, ok ? "ok  " : "FAIL", err, tol,
         ok ? "" : (" worst index " + std::to_string(worst)).c_str());
  return ok;
}

// Median milliseconds of `repeats` runs of f, timed with CUDA events after 3 warm-ups.
inline float timeMs(const std::function<void()>& f, int repeats = 20) {
  for (int i = 0; i < 3; i++) f();
  cudaEvent_t a, b;
  CUDA_CHECK(cudaEventCreate(&a));
  CUDA_CHECK(cudaEventCreate(&b));
  std::vector<float> ms;
  for (int r = 0; r < repeats; r++) {
    CUDA_CHECK(cudaEventRecord(a));
    f();
    CUDA_CHECK(cudaEventRecord(b));
    CUDA_CHECK(cudaEventSynchronize(b));
    float t = 0;
    CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace dev
