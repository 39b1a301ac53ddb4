// Pooling, no padding, floor mode. Forward: one invocation per output. Backward: one invocation
// per *input* element that gathers from every window containing it, so overlapping windows
// (3×3 stride 2) never race and no float atomics are needed.
// For input row ih, the windows that contain it are oh ∈ [ceil((ih − kh + 1)/s), floor(ih/s)]
// ∩ [0, hOut), likewise for columns.
struct PoolParams { n: u32, c: u32, h: u32, w: u32, kh: u32, kw: u32, stride: u32, hOut: u32, wOut: u32, total: u32 }

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 256u; }

// ---- max_pool: out = window max, argmax = ih·w + iw within the plane (first on ties) ----
@group(0) @binding(0) var<uniform> mpP: PoolParams;
@group(0) @binding(1) var<storage, read> mpX: array<f32>;
@group(0) @binding(2) var<storage, read_write> mpOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> mpArg: array<i32>;

@compute @workgroup_size(256)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flat(gid, nwg);
  if (o >= mpP.total) { return; }
  let plane = o / (mpP.hOut * mpP.wOut);
  let oo = o % (mpP.hOut * mpP.wOut);
  let y0 = (oo / mpP.wOut) * mpP.stride;
  let x0 = (oo % mpP.wOut) * mpP.stride;
  let base = plane * mpP.h * mpP.w;
  var best = mpX[base + y0 * mpP.w + x0];
  var bestIndex = y0 * mpP.w + x0;
  for (var ky = 0u; ky < mpP.kh; ky++) {
    for (var kx = 0u; kx < mpP.kw; kx++) {
      let idx = (y0 + ky) * mpP.w + x0 + kx;
      let v = mpX[base + idx];
      if (v > best) { best = v; bestIndex = idx; }
    }
  }
  mpOut[o] = best;
  mpArg[o] = i32(bestIndex);
}

/** The output windows [first, last] covering input coordinate i; empty when first > last. */
fn windowRange(i: u32, k: u32, s: u32, nOut: u32) -> vec2<i32> {
  let first = max(0, (i32(i) - i32(k) + i32(s)) / i32(s)); // ceil((i − k + 1)/s) for i ≥ k − 1
  let last = min(i32(nOut) - 1, i32(i / s));
  return vec2<i32>(first, last);
}

// ---- max_pool_backward: dx[i] = Σ dy[o] over windows o with argmax[o] == i ----
@group(0) @binding(0) var<uniform> mbP: PoolParams;
@group(0) @binding(1) var<storage, read> mbDy: array<f32>;
@group(0) @binding(2) var<storage, read> mbArg: array<i32>;
@group(0) @binding(3) var<storage, read_write> mbDx: array<f32>;

@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= mbP.total) { return; }
  let plane = i / (mbP.h * mbP.w);
  let ii = i % (mbP.h * mbP.w);
  let ry = windowRange(ii / mbP.w, mbP.kh, mbP.stride, mbP.hOut);
  let rx = windowRange(ii % mbP.w, mbP.kw, mbP.stride, mbP.wOut);
  var g = 0.0;
  for (var oy = ry.x; oy <= ry.y; oy++) {
    for (var ox = rx.x; ox <= rx.y; ox++) {
      let o = (plane * mbP.hOut + u32(oy)) * mbP.wOut + u32(ox);
      if (mbArg[o] == i32(ii)) { g += mbDy[o]; }
    }
  }
  mbDx[i] = g;
}

// ---- avg_pool ----
@group(0) @binding(0) var<uniform> apP: PoolParams;
@group(0) @binding(1) var<storage, read> apX: array<f32>;
@group(0) @binding(2) var<storage, read_write> apOut: array<f32>;

@compute @workgroup_size(256)
fn avg_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flat(gid, nwg);
  if (o >= apP.total) { return; }
  let plane = o / (apP.hOut * apP.wOut);
  let oo = o % (apP.hOut * apP.wOut);
  let y0 = (oo / apP.wOut) * apP.stride;
  let x0 = (oo % apP.wOut) * apP.stride;
  let base = plane * apP.h * apP.w;
  var s = 0.0;
  for (var ky = 0u; ky < apP.kh; ky++) {
    for (var kx = 0u; kx < apP.kw; kx++) {
      s += apX[base + (y0 + ky) * apP.w + x0 + kx];
    }
  }
  apOut[o] = s / f32(apP.kh * apP.kw);
}

// ---- avg_pool_backward: dx[i] = Σ dy[o] / (kh·kw) over windows containing i ----
@group(0) @binding(0) var<uniform> abP: PoolParams;
@group(0) @binding(1) var<storage, read> abDy: array<f32>;
@group(0) @binding(2) var<storage, read_write> abDx: array<f32>;

@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= abP.total) { return; }
  let plane = i / (abP.h * abP.w);
  let ii = i % (abP.h * abP.w);
  let ry = windowRange(ii / abP.w, abP.kh, abP.stride, abP.hOut);
  let rx = windowRange(ii % abP.w, abP.kw, abP.stride, abP.wOut);
  var g = 0.0;
  for (var oy = ry.x; oy <= ry.y; oy++) {
    for (var ox = rx.x; ox <= rx.y; ox++) {
      g += abDy[(plane * abP.hOut + u32(oy)) * abP.wOut + u32(ox)];
    }
  }
  abDx[i] = g / f32(abP.kh * abP.kw);
}
