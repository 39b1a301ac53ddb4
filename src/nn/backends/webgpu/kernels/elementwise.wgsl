// Elementwise kernels: fill, unary, binary, scale, axpy, relu backward.
// Variant defines: VEC4 (buffers viewed as vec4<f32> when every length is a multiple of 4;
// `n` then counts vec4s), OP (which unary/binary op), ACCUMULATE (out += result).
#default VEC4 false
#default OP 0
#default ACCUMULATE false
#default IN_PLACE false

// One invocation per element (or vec4); index = gid.x + gid.y · (num_workgroups.x · 256) so that
// large tensors can fold the grid into y (runtime.ts grid1d).

#if VEC4
alias V = vec4<f32>;
#else
alias V = f32;
#endif

fn flatIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * 256u;
}

// ---- fill: out[i] = bits (an f32 or i32 bit pattern) ----
struct FillParams { n: u32, bits: u32 }
@group(0) @binding(0) var<uniform> fillP: FillParams;
@group(0) @binding(1) var<storage, read_write> fillOut: array<u32>;

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i < fillP.n) { fillOut[i] = fillP.bits; }
}

// ---- unary: out = op(x); OP: 0 neg, 1 exp, 2 log, 3 sqrt, 4 abs, 5 relu ----
struct SizeParams { n: u32 }
@group(0) @binding(0) var<uniform> unaryP: SizeParams;
@group(0) @binding(1) var<storage, read> unaryX: array<V>;
@group(0) @binding(2) var<storage, read_write> unaryOut: array<V>;

fn unaryOp(x: V) -> V {
  switch OP {
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return abs(x); }
    default: { return max(x, V(0.0)); }
  }
}

@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i < unaryP.n) { unaryOut[i] = unaryOp(unaryX[i]); }
}

// ---- binary: out = a op b; OP: 0 add, 1 sub, 2 mul, 3 div, 4 max ----
@group(0) @binding(0) var<uniform> binaryP: SizeParams;
@group(0) @binding(1) var<storage, read> binaryA: array<V>;
@group(0) @binding(2) var<storage, read> binaryB: array<V>;
@group(0) @binding(3) var<storage, read_write> binaryOut: array<V>;

fn binaryOp(a: V, b: V) -> V {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    default: { return max(a, b); }
  }
}

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i < binaryP.n) { binaryOut[i] = binaryOp(binaryA[i], binaryB[i]); }
}

// ---- scale: out = alpha·x + beta, in place when IN_PLACE (out aliases x) ----
struct ScaleParams { n: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> scaleP: ScaleParams;
#if IN_PLACE
@group(0) @binding(1) var<storage, read_write> scaleOut: array<V>;
#else
@group(0) @binding(1) var<storage, read> scaleX: array<V>;
@group(0) @binding(2) var<storage, read_write> scaleOut: array<V>;
#endif

@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i < scaleP.n) {
#if IN_PLACE
    let x = scaleOut[i];
#else
    let x = scaleX[i];
#endif
    scaleOut[i] = scaleP.alpha * x + V(scaleP.beta);
  }
}

// ---- axpy: y += alpha·x ----
struct AxpyParams { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> axpyP: AxpyParams;
@group(0) @binding(1) var<storage, read> axpyX: array<V>;
@group(0) @binding(2) var<storage, read_write> axpyY: array<V>;

@compute @workgroup_size(256)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i < axpyP.n) { axpyY[i] = axpyY[i] + axpyP.alpha * axpyX[i]; }
}

// ---- relu backward: dx (+)= x > 0 ? dy : 0 ----
@group(0) @binding(0) var<uniform> reluBwdP: SizeParams;
@group(0) @binding(1) var<storage, read> reluBwdX: array<V>;
@group(0) @binding(2) var<storage, read> reluBwdDy: array<V>;
@group(0) @binding(3) var<storage, read_write> reluBwdDx: array<V>;

@compute @workgroup_size(256)
fn relu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i < reluBwdP.n) {
    var g = select(V(0.0), reluBwdDy[i], reluBwdX[i] > V(0.0));
    if (ACCUMULATE) { g = g + reluBwdDx[i]; }
    reluBwdDx[i] = g;
  }
}
