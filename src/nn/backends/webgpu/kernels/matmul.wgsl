// matmul: C[m,n] = op(A)[m,k] · op(B)[k,n] (+ bias[n]) (then ReLU), out = or += C.
// A is stored [m,k] ([k,m] when TRANS_A); B is stored [k,n] ([n,k] when TRANS_B).
// Variants: TRANS_A, TRANS_B, the tile shape and the vec4 loads of gemm-core.wgsl (chosen on the
// host when the contiguous dimension is a multiple of 4). The epilogue (bias, ReLU, accumulate)
// is a uniform bit set instead: a branch that is uniform across the dispatch costs nothing next
// to the GEMM, and every variant bit doubles the pipelines to compile (seconds each on lavapipe).
#default TRANS_A false
#default TRANS_B false

const FLAG_ACCUMULATE: u32 = 1u;
const FLAG_RELU: u32 = 2u;
const FLAG_BIAS: u32 = 4u;

struct MatmulParams { M: u32, N: u32, K: u32, kChunk: u32, flags: u32 }
@group(0) @binding(0) var<uniform> P: MatmulParams;
#if A_VEC4_K
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
#else
#if A_VEC4_M
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> A: array<f32>;
#endif
#endif
#if B_VEC4_N
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
#else
#if B_VEC4_K
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
#else
@group(0) @binding(2) var<storage, read> B: array<f32>;
#endif
#endif
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
// Bound to a 1-element dummy when FLAG_BIAS is off.
@group(0) @binding(4) var<storage, read> bias: array<f32>;

#if A_VEC4_K
fn loadA4k(r: u32, k: u32) -> vec4<f32> { return A4[(r * P.K + k) / 4u]; }
#endif
#if A_VEC4_M
fn loadA4m(k: u32, r: u32) -> vec4<f32> { return A4[(k * P.M + r) / 4u]; }
#endif
#if !A_VEC4_K
#if !A_VEC4_M
fn loadA(r: u32, k: u32) -> f32 {
  if (TRANS_A) { return A[k * P.M + r]; }
  return A[r * P.K + k];
}
#endif
#endif
#if B_VEC4_N
fn loadB4n(k: u32, c: u32) -> vec4<f32> { return B4[(k * P.N + c) / 4u]; }
#endif
#if B_VEC4_K
fn loadB4k(c: u32, k: u32) -> vec4<f32> { return B4[(c * P.K + k) / 4u]; }
#endif
#if !B_VEC4_N
#if !B_VEC4_K
fn loadB(k: u32, c: u32) -> f32 {
  if (TRANS_B) { return B[c * P.K + k]; }
  return B[k * P.N + c];
}
#endif
#endif

fn storeC(r: u32, c: u32, acc: f32, z: u32) {
  var v = acc;
  if ((P.flags & FLAG_BIAS) != 0u) { v = v + bias[c]; }
  if ((P.flags & FLAG_RELU) != 0u) { v = max(v, 0.0); }
  let i = r * P.N + c;
  if ((P.flags & FLAG_ACCUMULATE) != 0u) { v = C[i] + v; }
  C[i] = v;
}

#include gemm-core.wgsl
