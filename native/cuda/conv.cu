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

// x[img, ci, oh·s−p+kh, ow·s−p+kw] or 0 in the padding. All divisions by shape extents go
// through FastDiv (fastdiv.h): a multiply-high instead of a ~20-instruction integer divide.
struct ConvGeometry {
  const float* __restrict__ x;
  int c, h, w, stride, pad;
  FastDiv byKhw, byKw, byWOut, byOhw;
  __device__ __forceinline__ float at(int image, int pixel, int tap) const {
    int ci = byKhw.div(tap);
    int r = byKhw.mod(tap, ci);
    int ky = byKw.div(r), kx = byKw.mod(r, ky);
    int oy = byWOut.div(pixel), ox = byWOut.mod(pixel, oy);
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
    int image = g.byOhw.div(m);
    return g.at(image, g.byOhw.mod(m, image), k);
  }
};

// Weight-gradient A(m = tap, k = image·OHW + pixel): im2col transposed.
struct Im2colT {
  ConvGeometry g;
  static constexpr bool kContiguousK = true;
  __device__ __forceinline__ float operator()(int m, int k) const {
    int image = g.byOhw.div(k);
    return g.at(image, g.byOhw.mod(k, image), m);
  }
};

// Weight-gradient B(k = image·OHW + pixel, n = co) = dy[image, co, pixel].
struct DyB {
  const float* __restrict__ dy;
  int cOut;
  FastDiv byOhw;
  static constexpr bool kContiguousK = true;
  __device__ __forceinline__ float operator()(int k, int n) const {
    int image = byOhw.div(k);
    return __ldg(dy + ((long long)image * cOut + n) * byOhw.d + byOhw.mod(k, image));
  }
};

// Input-gradient A(m = image·H·W + (h, w), k = (co, kh, kw)) = dy at the output pixel that tap
// (kh, kw) of which lands on (h, w), or 0.
struct DyGatherA {
  const float* __restrict__ dy;
  int cOut, pad, hOut, wOut;
  FastDiv byHw, byW, byKhw, byKw, byStride;
  static constexpr bool kContiguousK = false;
  __device__ __forceinline__ float operator()(int m, int k) const {
    int image = byHw.div(m);
    int pixel = byHw.mod(m, image);
    int y = byW.div(pixel), xcol = byW.mod(pixel, y);
    int co = byKhw.div(k);
    int r = byKhw.mod(k, co);
    int ky = byKw.div(r), kx = byKw.mod(r, ky);
    int ty = y + pad - ky, tx = xcol + pad - kx;
    if (ty < 0 || tx < 0) return 0.f;
    int oy = byStride.div(ty), ox = byStride.div(tx);
    if (byStride.mod(ty, oy) || byStride.mod(tx, ox) || oy >= hOut || ox >= wOut) return 0.f;
    return __ldg(dy + (((long long)image * cOut + co) * hOut + oy) * wOut + ox);
  }
};

// Input-gradient B(k = (co, kh, kw), n = ci) = w[co, ci, kh, kw].
struct WeightTB {
  const float* __restrict__ w;
  int cIn;
  FastDiv byKhw;
  static constexpr bool kContiguousK = true;
  __device__ __forceinline__ float operator()(int k, int n) const {
    int co = byKhw.div(k);
    return __ldg(w + ((long long)co * cIn + n) * byKhw.d + byKhw.mod(k, co));
  }
};

ConvGeometry geometry(const float* x, const ConvShape& s) {
  return ConvGeometry{x,           s.cIn,           s.h,           s.w, s.stride, s.pad, FastDiv(s.kh * s.kw),
                      FastDiv(s.kw), FastDiv(s.wOut), FastDiv(s.hOut * s.wOut)};
}

}  // namespace

void launchConv2d(const LaunchEnv& env, GemmVariant v, const float* x, const float* w, const float* bias, float* out,
                  const ConvShape& s, bool relu) {
  const int M = s.n * s.hOut * s.wOut, N = s.cOut, K = s.cIn * s.kh * s.kw;
  runGemm(env, v == GemmVariant::Tf32, Im2colA{geometry(x, s)}, DenseB<true>{w, K, N}, NchwRows{out, s.cOut, FastDiv(s.hOut * s.wOut)},
          Epilogue{bias, relu, false}, M, N, K);
}

void launchConv2dBackwardInput(const LaunchEnv& env, GemmVariant v, const float* dy, const float* w, float* dx,
                               const ConvShape& s, bool accumulate) {
  const int M = s.n * s.h * s.w, N = s.cIn, K = s.cOut * s.kh * s.kw;
  DyGatherA a{dy, s.cOut, s.pad, s.hOut, s.wOut, FastDiv(s.h * s.w), FastDiv(s.w), FastDiv(s.kh * s.kw), FastDiv(s.kw), FastDiv(s.stride)};
  runGemm(env, v == GemmVariant::Tf32, a, WeightTB{w, s.cIn, FastDiv(s.kh * s.kw)}, NchwRows{dx, s.cIn, FastDiv(s.h * s.w)},
          Epilogue{nullptr, false, accumulate}, M, N, K);
}

void launchConv2dBackwardWeight(const LaunchEnv& env, GemmVariant v, const float* x, const float* dy, float* dw,
                                float* db, const ConvShape& s, bool accumulate) {
  const int M = s.cIn * s.kh * s.kw, N = s.cOut, K = s.n * s.hOut * s.wOut;
  runGemm(env, v == GemmVariant::Tf32, Im2colT{geometry(x, s)}, DyB{dy, s.cOut, FastDiv(s.hOut * s.wOut)}, ColMajor{dw, M},
          Epilogue{nullptr, false, accumulate}, M, N, K);
  if (db) launchChannelSum(env, dy, db, s.n, s.cOut, s.hOut * s.wOut, accumulate);
}

}  // namespace inkling
