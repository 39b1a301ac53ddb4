// conv2d forward, backward-to-input and backward-to-weight as implicit GEMMs (no im2col buffer):
//
//   forward         out[n,co,oh,ow] = act(bias[co] + Σ_{ci,kh,kw} x[n,ci,oh·s−p+kh,ow·s−p+kw] · w[co,ci,kh,kw])
//                   GEMM  M = N·OH·OW (image, pixel), N = Co, K = Ci·KH·KW; A = im2col(x), B = wᵀ
//   backward input  dx[n,ci,h,w] (+)= Σ_{co,kh,kw} dy[n,co,(h+p−kh)/s,(w+p−kw)/s] · w[co,ci,kh,kw]
//                   (only where h+p−kh and w+p−kw are multiples of s and inside dy)
//                   GEMM  M = N·H·W, N = Ci, K = Co·KH·KW; A = gather(dy), B = w viewed [(co,kh,kw), ci]
//   backward weight dw[co,ci,kh,kw] (+)= Σ_{n,oh,ow} dy[n,co,oh,ow] · x[n,ci,oh·s−p+kh,ow·s−p+kw]
//                   computed transposed: M = Ci·KH·KW, N = Co, K = N·OH·OW (huge), stored column-major
//                   into dw; K is split across blocks and the partials summed in order (split-K in
//                   gemm_tile.cuh) — deterministic, no atomics. db = channelSum(dy) (reduce.cu).
// Build and run the standalone check (CPU reference = direct 7-loop convolution, every version):
//   nvcc -O3 -std=c++17 -arch=sm_90 -o conv_check native/cuda/dev/conv_check.cu && ./conv_check
// Versions: SIMT (default) and TF32 (INKLING_CUDA_GEMM=tf32), the two variants of gemm_tile.cuh.
#include "gemm_tile.cuh"
#include "kernels.h"

namespace inkling {
namespace {

using namespace gemm;

// x[img, ci, oh·s−p+kh, ow·s−p+kw] or 0 in the padding.
struct ConvGeometry {
  const float* __restrict__ x;
  int c, h, w, kh, kw, stride, pad, hOut, wOut;
  __device__ __forceinline__ float at(int image, int pixel, int tap) const {
    int khw = kh * kw;
    int ci = tap / khw;
    int r = tap - ci * khw;
    int ky = r / kw, kx = r - (r / kw) * kw;
    int oy = pixel / wOut, ox = pixel - (pixel / wOut) * wOut;
    int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
    if (iy < 0 || iy >= h || ix < 0 || ix >= w) return 0.f;
    return __ldg(x + (((long long)image * c + ci) * h + iy) * w + ix);
  }
};

// Forward A(m = image·OHW + pixel, k = tap).
struct Im2colA {
  ConvGeometry g;
  static constexpr bool kContiguousK = false;  // neighbouring m are neighbouring ow
  __device__ __forceinline__ float operator()(int m, int k) const {
    int ohw = g.hOut * g.wOut;
    int image = m / ohw;
    return g.at(image, m - image * ohw, k);
  }
};

// Weight-gradient A(m = tap, k = image·OHW + pixel): im2col transposed.
struct Im2colT {
  ConvGeometry g;
  static constexpr bool kContiguousK = true;
  __device__ __forceinline__ float operator()(int m, int k) const {
    int ohw = g.hOut * g.wOut;
    int image = k / ohw;
    return g.at(image, k - image * ohw, m);
  }
};

// Weight-gradient B(k = image·OHW + pixel, n = co) = dy[image, co, pixel].
struct DyB {
  const float* __restrict__ dy;
  int cOut, ohw;
  static constexpr bool kContiguousK = true;
  __device__ __forceinline__ float operator()(int k, int n) const {
    int image = k / ohw;
    return __ldg(dy + ((long long)image * cOut + n) * ohw + (k - image * ohw));
  }
};

// Input-gradient A(m = image·H·W + (h, w), k = (co, kh, kw)) = dy at the output pixel that tap
// (kh, kw) of which lands on (h, w), or 0.
struct DyGatherA {
  const float* __restrict__ dy;
  int cOut, h, w, kh, kw, stride, pad, hOut, wOut;
  static constexpr bool kContiguousK = false;
  __device__ __forceinline__ float operator()(int m, int k) const {
    int hw = h * w;
    int image = m / hw;
    int pixel = m - image * hw;
    int y = pixel / w, xcol = pixel - (pixel / w) * w;
    int khw = kh * kw;
    int co = k / khw;
    int r = k - co * khw;
    int ky = r / kw, kx = r - (r / kw) * kw;
    int ty = y + pad - ky, tx = xcol + pad - kx;
    if (ty < 0 || tx < 0 || ty % stride || tx % stride) return 0.f;
    int oy = ty / stride, ox = tx / stride;
    if (oy >= hOut || ox >= wOut) return 0.f;
    return __ldg(dy + (((long long)image * cOut + co) * hOut + oy) * wOut + ox);
  }
};

// Input-gradient B(k = (co, kh, kw), n = ci) = w[co, ci, kh, kw].
struct WeightTB {
  const float* __restrict__ w;
  int cIn, khw;
  static constexpr bool kContiguousK = true;
  __device__ __forceinline__ float operator()(int k, int n) const {
    int co = k / khw;
    return __ldg(w + ((long long)co * cIn + n) * khw + (k - co * khw));
  }
};

ConvGeometry geometry(const float* x, const ConvShape& s) {
  return ConvGeometry{x, s.cIn, s.h, s.w, s.kh, s.kw, s.stride, s.pad, s.hOut, s.wOut};
}

}  // namespace

void launchConv2d(const LaunchEnv& env, GemmVariant v, const float* x, const float* w, const float* bias, float* out,
                  const ConvShape& s, bool relu) {
  const int M = s.n * s.hOut * s.wOut, N = s.cOut, K = s.cIn * s.kh * s.kw;
  runGemm(env, v == GemmVariant::Tf32, Im2colA{geometry(x, s)}, DenseB<true>{w, K, N}, NchwRows{out, s.cOut, s.hOut * s.wOut},
          Epilogue{bias, relu, false}, M, N, K);
}

void launchConv2dBackwardInput(const LaunchEnv& env, GemmVariant v, const float* dy, const float* w, float* dx,
                               const ConvShape& s, bool accumulate) {
  const int M = s.n * s.h * s.w, N = s.cIn, K = s.cOut * s.kh * s.kw;
  DyGatherA a{dy, s.cOut, s.h, s.w, s.kh, s.kw, s.stride, s.pad, s.hOut, s.wOut};
  runGemm(env, v == GemmVariant::Tf32, a, WeightTB{w, s.cIn, s.kh * s.kw}, NchwRows{dx, s.cIn, s.h * s.w},
          Epilogue{nullptr, false, accumulate}, M, N, K);
}

void launchConv2dBackwardWeight(const LaunchEnv& env, GemmVariant v, const float* x, const float* dy, float* dw,
                                float* db, const ConvShape& s, bool accumulate) {
  const int M = s.cIn * s.kh * s.kw, N = s.cOut, K = s.n * s.hOut * s.wOut;
  runGemm(env, v == GemmVariant::Tf32, Im2colT{geometry(x, s)}, DyB{dy, s.cOut, s.hOut * s.wOut}, ColMajor{dw, M},
          Epilogue{nullptr, false, accumulate}, M, N, K);
  if (db) launchChannelSum(env, dy, db, s.n, s.cOut, s.hOut * s.wOut, accumulate);
}

}  // namespace inkling
