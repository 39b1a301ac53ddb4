// Dropout with the counter-based hash of src/nn/dropout-rng.ts, bit for bit: WGSL u32
// multiplication wraps modulo 2^32 exactly like Math.imul, and >> on u32 is logical like >>>.
//   bits = lowbias32(counter · 0x9E3779B1 ^ key)      (key = dropoutKey(seed, step), on the host)
//   keep = (bits >> 8) >= threshold, threshold = ceil(p · 2^24)
// The host turns `u >= p` (u = (bits >> 8) / 2^24) into that integer compare, which is exact for
// every p, whereas comparing in f32 would round p. counter = element index (dropout) or
// element / spatial = n·C + c (dropout2d).
#default ACCUMULATE false

struct DropoutParams { n: u32, spatial: u32, key: u32, threshold: u32, scale: f32 }

fn lowbias32(v: u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}

fn kept(p: DropoutParams, i: u32) -> bool {
  let counter = i / p.spatial;
  let bits = lowbias32((counter * 0x9e3779b1u) ^ p.key);
  return (bits >> 8u) >= p.threshold;
}

@group(0) @binding(0) var<uniform> fwP: DropoutParams;
@group(0) @binding(1) var<storage, read> fwX: array<f32>;
@group(0) @binding(2) var<storage, read_write> fwOut: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  // Dropped elements are +0 (not x·0, which is −0 for negative x), as ref.
  if (i < fwP.n) { fwOut[i] = select(0.0, fwX[i] * fwP.scale, kept(fwP, i)); }
}

@group(0) @binding(0) var<uniform> bwP: DropoutParams;
@group(0) @binding(1) var<storage, read> bwDy: array<f32>;
@group(0) @binding(2) var<storage, read_write> bwDx: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < bwP.n) {
    var g = select(0.0, bwDy[i] * bwP.scale, kept(bwP, i));
    if (ACCUMULATE) { g += bwDx[i]; }
    bwDx[i] = g;
  }
}
