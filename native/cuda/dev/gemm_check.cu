// Standalone check and benchmark of the GEMM and the three implicit-GEMM convolution passes.
//
//   nvcc -O3 -std=c++17 -arch=sm_90 -o gemm_check native/cuda/dev/gemm_check.cu && ./gemm_check
//   # with cuBLAS as the yardstick (SGEMM and TF32 at the same shapes):
//   nvcc -O3 -std=c++17 -arch=sm_90 -DWITH_CUBLAS -o gemm_check native/cuda/dev/gemm_check.cu -lcublas && ./gemm_check
//
// Versions (see gemm.cu): 1 naive (one thread per output), 2 SIMT tiled, 3 TF32 mma.sync.
// Checks every transpose combination and odd sizes against a CPU triple loop (double accumulation),
// each conv pass against a direct CPU convolution, then times the conv2 shape of the seed CNN
// (M = batch·196, K = 288, N = 64) at batch 128 and 512, printing GFLOP/s and % of cuBLAS.
// Exit status 1 when any check fails.
#include <algorithm>

#include "../conv.cu"
#include "../gemm.cu"
#include "../reduce.cu"
#include "harness.cuh"
#ifdef WITH_CUBLAS
#include <cublas_v2.h>
#endif

using namespace inkling;

// version 1: naive, C row-major, A [M,K], B [K,N]
__global__ void gemmNaive(const float* a, const float* b, float* c, int M, int N, int K) {
  int m = blockIdx.y * blockDim.y + threadIdx.y, n = blockIdx.x * blockDim.x + threadIdx.x;
  if (m >= M || n >= N) return;
  float s = 0.f;
  for (int k = 0; k < K; k++) s += a[(long long)m * K + k] * b[(long long)k * N + n];
  c[(long long)m * N + n] = s;
}

static std::vector<float> cpuMatmul(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>* bias,
                                    int M, int N, int K, bool ta, bool tb, bool relu) {
  std::vector<float> c((size_t)M * N);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double s = 0;
      for (int k = 0; k < K; k++) s += (double)(ta ? a[(size_t)k * M + m] : a[(size_t)m * K + k]) * (tb ? b[(size_t)n * K + k] : b[(size_t)k * N + n]);
      if (bias) s += (*bias)[n];
      if (relu && s < 0) s = 0;
      c[(size_t)m * N + n] = (float)s;
    }
  return c;
}

static void cpuConv(const std::vector<float>& x, const std::vector<float>& w, std::vector<float>* y, std::vector<float>* dx,
                    std::vector<float>* dw, const std::vector<float>& dy, const ConvShape& s) {
  for (int n = 0; n < s.n; n++)
    for (int co = 0; co < s.cOut; co++)
      for (int oh = 0; oh < s.hOut; oh++)
        for (int ow = 0; ow < s.wOut; ow++) {
          size_t yi = (((size_t)n * s.cOut + co) * s.hOut + oh) * s.wOut + ow;
          double acc = 0;
          for (int ci = 0; ci < s.cIn; ci++)
            for (int kh = 0; kh < s.kh; kh++)
              for (int kw = 0; kw < s.kw; kw++) {
                int ih = oh * s.stride - s.pad + kh, iw = ow * s.stride - s.pad + kw;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                size_t xi = (((size_t)n * s.cIn + ci) * s.h + ih) * s.w + iw;
                size_t wi = (((size_t)co * s.cIn + ci) * s.kh + kh) * s.kw + kw;
                acc += (double)x[xi] * w[wi];
                if (dx) (*dx)[xi] += dy[yi] * w[wi];
                if (dw) (*dw)[wi] += dy[yi] * x[xi];
              }
          if (y) (*y)[yi] = (float)acc;
        }
}

int main() {
  try {
    dev::Env env;
    bool ok = true;
    for (int variant = 0; variant < 2; variant++) {
      const GemmVariant v = variant ? GemmVariant::Tf32 : GemmVariant::Simt;
      const double tol = variant ? 5e-3 : 1e-5;
      printf("%s\n", variant ? "version 3 (TF32 mma.sync):" : "version 2 (SIMT tiled):");
      const int shapes[][3] = {{1, 10, 128}, {37, 29, 41}, {128, 128, 3136}, {300, 70, 17}, {25088 / 4, 64, 288}};
      for (auto& sh : shapes)
        for (int t = 0; t < 4; t++) {
          int M = sh[0], N = sh[1], K = sh[2];
          bool ta = t & 1, tb = t & 2;
          auto a = dev::randomVector((size_t)M * K, 1 + t), b = dev::randomVector((size_t)K * N, 2 + t), bias = dev::randomVector(N, 3);
          dev::DeviceVec<float> da(a), db(b), dbias(bias), dc((size_t)M * N);
          launchMatmul(env.launch(), v, da.ptr, db.ptr, dbias.ptr, dc.ptr, M, N, K, ta, tb, false, true);
          CUDA_CHECK(cudaDeviceSynchronize());
          char what[128];
          snprintf(what, sizeof what, "matmul %dx%dx%d transA=%d transB=%d bias+relu", M, N, K, ta, tb);
          ok &= dev::compare(what, dc.get(), cpuMatmul(a, b, &bias, M, N, K, ta, tb, true), tol);
          env.scratch.clear();
        }
      const ConvShape convs[] = {
          {2, 1, 28, 28, 32, 3, 3, 1, 1, 28, 28}, {3, 7, 5, 3, 5, 3, 3, 2, 1, 3, 2}, {2, 32, 14, 14, 64, 3, 3, 1, 1, 14, 14},
          {1, 3, 9, 9, 4, 5, 5, 2, 2, 5, 5},      {4, 8, 6, 6, 6, 1, 1, 1, 0, 6, 6}};
      for (const ConvShape& s : convs) {
        size_t nx = (size_t)s.n * s.cIn * s.h * s.w, nw = (size_t)s.cOut * s.cIn * s.kh * s.kw, ny = (size_t)s.n * s.cOut * s.hOut * s.wOut;
        auto x = dev::randomVector(nx, 5), w = dev::randomVector(nw, 6), dy = dev::randomVector(ny, 7);
        std::vector<float> y(ny), dx(nx), dw(nw);
        cpuConv(x, w, &y, &dx, &dw, dy, s);
        dev::DeviceVec<float> gx(x), gw(w), gdy(dy), gy(ny), gdx(nx), gdw(nw), gdb(s.cOut);
        launchConv2d(env.launch(), v, gx.ptr, gw.ptr, nullptr, gy.ptr, s, false);
        launchConv2dBackwardInput(env.launch(), v, gdy.ptr, gw.ptr, gdx.ptr, s, false);
        launchConv2dBackwardWeight(env.launch(), v, gx.ptr, gdy.ptr, gdw.ptr, gdb.ptr, s, false);
        CUDA_CHECK(cudaDeviceSynchronize());
        char what[128];
        snprintf(what, sizeof what, "conv n%d c%d %dx%d -> %d k%dx%d s%d p%d: forward", s.n, s.cIn, s.h, s.w, s.cOut, s.kh, s.kw, s.stride, s.pad);
        ok &= dev::compare(what, gy.get(), y, tol);
        ok &= dev::compare("  backward input", gdx.get(), dx, tol);
        ok &= dev::compare("  backward weight", gdw.get(), dw, tol);
        env.scratch.clear();
      }
    }

#ifdef WITH_CUBLAS
    cublasHandle_t handle;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) throw CudaError("cublasCreate failed");
#endif
    // INKLING_DEV_NO_TIMING=1 skips the timing (compute-sanitizer runs: checks only).
    const bool timing = !getenv("INKLING_DEV_NO_TIMING");
    if (timing) printf("\ntiming, conv2 GEMM of the seed CNN (C[M,64] = A[M,288]·B[288,64]):\n");
    for (int batch : {128, 512}) {
      if (!timing) break;
      const int M = batch * 196, N = 64, K = 288;
      const double gflop = 2.0 * M * N * K / 1e9;
      dev::DeviceVec<float> a(dev::randomVector((size_t)M * K, 11)), b(dev::randomVector((size_t)K * N, 12)), c((size_t)M * N);
      auto le = env.launch();
      float naive = dev::timeMs([&] { INKLING_LAUNCH(dim3(ceilDiv(N, 16), ceilDiv(M, 16)), dim3(16, 16), 0, 0, gemmNaive)(a.ptr, b.ptr, c.ptr, M, N, K); });
      float simt = dev::timeMs([&] { launchMatmul(le, GemmVariant::Simt, a.ptr, b.ptr, nullptr, c.ptr, M, N, K, false, false, false, false); });
      float tf32 = dev::timeMs([&] { launchMatmul(le, GemmVariant::Tf32, a.ptr, b.ptr, nullptr, c.ptr, M, N, K, false, false, false, false); });
      printf("  batch %d (M=%d): v1 naive %.3f ms %.0f GFLOP/s | v2 simt %.3f ms %.0f GFLOP/s | v3 tf32 %.3f ms %.0f GFLOP/s\n", batch, M,
             naive, gflop / naive * 1e3, simt, gflop / simt * 1e3, tf32, gflop / tf32 * 1e3);
#ifdef WITH_CUBLAS
      const float one = 1.f, zero = 0.f;
      // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: cublas(N=64 rows, M cols).
      auto sgemm = [&](cublasMath_t mode) {
        cublasSetMathMode(handle, mode);
        return dev::timeMs([&] { cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, b.ptr, N, a.ptr, K, &zero, c.ptr, N); });
      };
      float cuFp32 = sgemm(CUBLAS_DEFAULT_MATH), cuTf32 = sgemm(CUBLAS_TF32_TENSOR_OP_MATH);
      printf("  batch %d: cuBLAS fp32 %.3f ms, tf32 %.3f ms | ours simt %.0f%% of cuBLAS fp32, tf32 %.0f%% of cuBLAS tf32\n", batch, cuFp32,
             cuTf32, 100 * cuFp32 / simt, 100 * cuTf32 / tf32);
      printf("RESULT gemm batch=%d simt_ms=%.5f tf32_ms=%.5f cublas_fp32_ms=%.5f cublas_tf32_ms=%.5f\n", batch, simt, tf32, cuFp32, cuTf32);
#else
      printf("RESULT gemm batch=%d simt_ms=%.5f tf32_ms=%.5f\n", batch, simt, tf32);
#endif
      env.scratch.clear();
    }
    printf(ok ? "all gemm/conv checks passed\n" : "SOME CHECKS FAILED\n");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
