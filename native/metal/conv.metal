// conv2d forward, backward-to-input and backward-to-weight as implicit GEMMs over gemm_tile.h
// (no im2col buffer: the loaders compute the im2col / gather index of every element):
//   forward         out[n,co,oh,ow] = act(bias[co] + Σ_{ci,kh,kw} x[n,ci,oh·s−p+kh,ow·s−p+kw]·w[co,ci,kh,kw])
//                   GEMM M = N·OH·OW (image, pixel), N = Co, K = Ci·KH·KW; A = im2col(x), B = wᵀ
//   backward input  dx[n,ci,h,w] (+)= Σ_{co,kh,kw} dy[n,co,(h+p−kh)/s,(w+p−kw)/s]·w[co,ci,kh,kw]
//                   (only where h+p−kh and w+p−kw are multiples of s and inside dy)
//                   GEMM M = N·H·W, N = Ci, K = Co·KH·KW; A = gather(dy), B = w viewed [(co,kh,kw), ci]
//   backward weight dw[co,ci,kh,kw] (+)= Σ_{n,oh,ow} dy[n,co,oh,ow]·x[n,ci,oh·s−p+kh,ow·s−p+kw]
//                   computed transposed: M = Ci·KH·KW, N = Co, K = N·OH·OW (long: split-K), stored
//                   column-major into dw; db = channelSum(dy) (reduce.metal)
// Same decomposition as native/cuda/conv.cu. Indices are divided with plain integer division
// (FastDiv, as in the CUDA loaders, would save instructions: unmeasured here).
#include "gemm_tile.h"

namespace ink {

// x[image, ci, oy·s − p + ky, ox·s − p + kx] or 0 in the padding; tap = (ci, ky, kx), pixel = (oy, ox).
inline float im2col(device const float* x, constant GemmArgs& g, int image, int pixel, int tap) {
  const int khw = g.kh * g.kw;
  const int ci = tap / khw, r = tap - ci * khw;
  const int ky = r / g.kw, kx = r - ky * g.kw;
  const int oy = pixel / g.wOut, ox = pixel - oy * g.wOut;
  const int iy = oy * g.stride - g.pad + ky, ix = ox * g.stride - g.pad + kx;
  if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return 0.0f;
  return x[((long(image) * g.cIn + ci) * g.h + iy) * g.w + ix];
}

// Forward A(m = image·OHW + pixel, k = tap).
struct Im2colA {
  device const float* x;
  constant GemmArgs* g;
  float operator()(int m, int k) const {
    const int ohw = g->hOut * g->wOut, image = m / ohw;
    return im2col(x, *g, image, m - image * ohw, k);
  }
  bool kMajor() const { return false; }  // neighbouring m are neighbouring ow
};

// Weight-gradient A(m = tap, k = image·OHW + pixel): im2col transposed.
struct Im2colT {
  device const float* x;
  constant GemmArgs* g;
  float operator()(int m, int k) const {
    const int ohw = g->hOut * g->wOut, image = k / ohw;
    return im2col(x, *g, image, k - image * ohw, m);
  }
  bool kMajor() const { return true; }
};

// Weight-gradient B(k = image·OHW + pixel, n = co) = dy[image, co, pixel].
struct DyB {
  device const float* dy;
  constant GemmArgs* g;
  float operator()(int k, int n) const {
    const int ohw = g->hOut * g->wOut, image = k / ohw;
    return dy[(long(image) * g->cOut + n) * ohw + (k - image * ohw)];
  }
  bool kMajor() const { return true; }
};

// Input-gradient A(m = image·H·W + (y, x), k = (co, ky, kx)) = dy at the output pixel whose tap
// (ky, kx) lands on (y, x), or 0.
struct DyGatherA {
  device const float* dy;
  constant GemmArgs* g;
  float operator()(int m, int k) const {
    const int hw = g->h * g->w, image = m / hw, pixel = m - image * hw;
    const int y = pixel / g->w, xc = pixel - y * g->w;
    const int khw = g->kh * g->kw, co = k / khw, r = k - co * khw;
    const int ky = r / g->kw, kx = r - ky * g->kw;
    const int ty = y + g->pad - ky, tx = xc + g->pad - kx;
    if (ty < 0 || tx < 0 || ty % g->stride != 0 || tx % g->stride != 0) return 0.0f;
    const int oy = ty / g->stride, ox = tx / g->stride;
    if (oy >= g->hOut || ox >= g->wOut) return 0.0f;
    return dy[((long(image) * g->cOut + co) * g->hOut + oy) * g->wOut + ox];
  }
  bool kMajor() const { return false; }
};

// Input-gradient B(k = (co, ky, kx), n = ci) = w[co, ci, ky, kx].
struct WeightTB {
  device const float* w;
  constant GemmArgs* g;
  float operator()(int k, int n) const {
    const int khw = g->kh * g->kw, co = k / khw;
    return w[(long(co) * g->cIn + n) * khw + (k - co * khw)];
  }
  bool kMajor() const { return true; }
};

}  // namespace ink

// Buffers of the three entries: 0 first operand, 1 second, 2 out, 3 bias (or out), 4 partials (or
// out), 5 GemmArgs (its layout and split fields set by host/launch.cc).
kernel void conv2d_forward(device const float* x [[buffer(0)]], device const float* w [[buffer(1)]],
                           device float* out [[buffer(2)]], device const float* bias [[buffer(3)]],
                           device float* partial [[buffer(4)]], constant GemmArgs& g [[buffer(5)]],
                           uint3 group [[threadgroup_position_in_grid]], uint tid [[thread_index_in_threadgroup]],
                           uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float As[ink::BM * ink::BK];
  threadgroup float Bs[ink::BK * ink::BN];
  threadgroup float Cs[ink::BM * ink::BN];
  const ink::Im2colA A{x, &g};
  const ink::DenseB B{w, g.K, g.N, true};
  ink::gemmTile(A, B, g, out, bias, partial, group, tid, sg, As, Bs, Cs);
}

kernel void conv2d_backward_input(device const float* dy [[buffer(0)]], device const float* w [[buffer(1)]],
                                  device float* dx [[buffer(2)]], device const float* bias [[buffer(3)]],
                                  device float* partial [[buffer(4)]], constant GemmArgs& g [[buffer(5)]],
                                  uint3 group [[threadgroup_position_in_grid]], uint tid [[thread_index_in_threadgroup]],
                                  uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float As[ink::BM * ink::BK];
  threadgroup float Bs[ink::BK * ink::BN];
  threadgroup float Cs[ink::BM * ink::BN];
  const ink::DyGatherA A{dy, &g};
  const ink::WeightTB B{w, &g};
  ink::gemmTile(A, B, g, dx, bias, partial, group, tid, sg, As, Bs, Cs);
}

kernel void conv2d_backward_weight(device const float* x [[buffer(0)]], device const float* dy [[buffer(1)]],
                                   device float* dw [[buffer(2)]], device const float* bias [[buffer(3)]],
                                   device float* partial [[buffer(4)]], constant GemmArgs& g [[buffer(5)]],
                                   uint3 group [[threadgroup_position_in_grid]], uint tid [[thread_index_in_threadgroup]],
                                   uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float As[ink::BM * ink::BK];
  threadgroup float Bs[ink::BK * ink::BN];
  threadgroup float Cs[ink::BM * ink::BN];
  const ink::Im2colT A{x, &g};
  const ink::DyB B{dy, &g};
  ink::gemmTile(A, B, g, dw, bias, partial, group, tid, sg, As, Bs, Cs);
}
