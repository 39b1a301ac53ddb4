// conv2d as implicit GEMMs on the tiled core (gemm-core.wgsl): no im2col buffer, the loaders
// compute the image coordinates of each matrix element. NCHW images, OIHW weights.
// MODE 0, forward:        out[n,co,oh,ow] = Σ_{ci,ky,kx} x[n,ci,oh·s+ky−pad, ow·s+kx−pad]·w[co,ci,ky,kx]
//   M = n·hOut·wOut (r = n,oh,ow), N = cOut, K = cIn·kh·kw (k = ci,ky,kx); A = x gathered,
//   B[k,c] = w[c·K + k] (w is C's transposed B); epilogue bias[co], ReLU.
// MODE 1, grad input (a gather, so no atomics): dx[n,ci,ih,iw] = Σ_{co,ky,kx} dy[n,co,oh,ow]·w[co,ci,ky,kx]
//   over oh·s = ih+pad−ky, ow·s = iw+pad−kx when divisible and in range.
//   M = n·h·w (r = n,ih,iw), N = cIn, K = cOut·kh·kw (k = co,ky,kx).
// MODE 2, grad weight: dw[co,ci,ky,kx] = Σ_{n,oh,ow} dy[n,co,oh,ow]·x[n,ci,oh·s+ky−pad, ow·s+kx−pad]
//   M = cOut, N = cIn·kh·kw, K = n·hOut·wOut: K is the long axis, so it is split (SPLIT_K) across
//   workgroups z into partial sums that reduce.wgsl:splitk_sum adds up deterministically.
// The epilogue (bias, ReLU, accumulate) is a uniform bit set, as in matmul.wgsl.
#default MODE 0
#default SPLIT_K false

const FLAG_ACCUMULATE: u32 = 1u;
const FLAG_RELU: u32 = 2u;
const FLAG_BIAS: u32 = 4u;

struct ConvParams {
  M: u32, N: u32, K: u32, kChunk: u32,
  batch: u32, cIn: u32, h: u32, w: u32,
  cOut: u32, kh: u32, kw: u32, stride: u32,
  pad: u32, hOut: u32, wOut: u32, flags: u32,
}
@group(0) @binding(0) var<uniform> P: ConvParams;
@group(0) @binding(1) var<storage, read> srcA: array<f32>;
#if B_VEC4_K
@group(0) @binding(2) var<storage, read> srcB4: array<vec4<f32>>;
#else
@group(0) @binding(2) var<storage, read> srcB: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> Out: array<f32>;
#if !SPLIT_K
// Bound to a 1-element dummy when FLAG_BIAS is off.
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif

/** The image x: A's source in MODE 0, B's in MODE 2. */
fn imageLoad(i: u32) -> f32 {
#if B_VEC4_K
  return srcA[i];
#else
  if (MODE == 2u) { return srcB[i]; }
  return srcA[i];
#endif
}

/** x[n, ci, iy, ix] with zero padding; iy, ix may be negative. */
fn imageAt(n: u32, ci: u32, iy: i32, ix: i32) -> f32 {
  if (iy < 0 || ix < 0 || iy >= i32(P.h) || ix >= i32(P.w)) { return 0.0; }
  return imageLoad(((n * P.cIn + ci) * P.h + u32(iy)) * P.w + u32(ix));
}

#if B_VEC4_K
fn loadB4k(c: u32, k: u32) -> vec4<f32> { return srcB4[(c * P.K + k) / 4u]; }
#endif

fn loadA(r: u32, k: u32) -> f32 {
  let khw = P.kh * P.kw;
  if (MODE == 0u) {
    let hw = P.hOut * P.wOut;
    let n = r / hw;
    let o = r % hw;
    let ci = k / khw;
    let kr = k % khw;
    let iy = i32((o / P.wOut) * P.stride + kr / P.kw) - i32(P.pad);
    let ix = i32((o % P.wOut) * P.stride + kr % P.kw) - i32(P.pad);
    return imageAt(n, ci, iy, ix);
  } else if (MODE == 1u) {
    let hw = P.h * P.w;
    let n = r / hw;
    let i = r % hw;
    let co = k / khw;
    let kr = k % khw;
    let ty = i32(i / P.w) + i32(P.pad) - i32(kr / P.kw);
    let tx = i32(i % P.w) + i32(P.pad) - i32(kr % P.kw);
    if (ty < 0 || tx < 0) { return 0.0; }
    let s = P.stride;
    if (u32(ty) % s != 0u || u32(tx) % s != 0u) { return 0.0; }
    let oy = u32(ty) / s;
    let ox = u32(tx) / s;
    if (oy >= P.hOut || ox >= P.wOut) { return 0.0; }
    return srcA[((n * P.cOut + co) * P.hOut + oy) * P.wOut + ox];
  } else {
    // A[co, (n, o)] = dy[n, co, o]
    let hw = P.hOut * P.wOut;
    return srcA[((k / hw) * P.cOut + r) * hw + k % hw];
  }
}

#if !B_VEC4_K
fn loadB(k: u32, c: u32) -> f32 {
  let khw = P.kh * P.kw;
  if (MODE == 0u) {
    return srcB[c * P.K + k];
  } else if (MODE == 1u) {
    return srcB[((k / khw) * P.cIn + c) * khw + k % khw];
  } else {
    // B[(n, oh, ow), (ci, ky, kx)] = x[n, ci, oh·s+ky−pad, ow·s+kx−pad]
    let hw = P.hOut * P.wOut;
    let n = k / hw;
    let o = k % hw;
    let ci = c / khw;
    let kr = c % khw;
    let iy = i32((o / P.wOut) * P.stride + kr / P.kw) - i32(P.pad);
    let ix = i32((o % P.wOut) * P.stride + kr % P.kw) - i32(P.pad);
    return imageAt(n, ci, iy, ix);
  }
}
#endif

fn storeC(r: u32, c: u32, acc: f32, z: u32) {
  var v = acc;
  var i: u32;
  if (MODE == 0u) {
#if !SPLIT_K
    if ((P.flags & FLAG_BIAS) != 0u) { v = v + bias[c]; }
#endif
    if ((P.flags & FLAG_RELU) != 0u) { v = max(v, 0.0); }
    let hw = P.hOut * P.wOut;
    i = ((r / hw) * P.cOut + c) * hw + r % hw;
  } else if (MODE == 1u) {
    let hw = P.h * P.w;
    i = ((r / hw) * P.cIn + c) * hw + r % hw;
  } else if (SPLIT_K) {
    i = (z * P.M + r) * P.N + c;
  } else {
    i = r * P.N + c;
  }
  if (!SPLIT_K && (P.flags & FLAG_ACCUMULATE) != 0u) { v = Out[i] + v; }
  Out[i] = v;
}

#include gemm-core.wgsl
