// Reductions. All are deterministic (fixed tree order, no atomics), so a run reproduces.
// channel_sum: out[c] (+)= Σ_{o,i} x[o, c, i] for x viewed [outer, channels, inner]. Workgroup
//   (chunk, c) sums one contiguous chunk of channel c's outer·inner elements; with one chunk it
//   writes out directly (DIRECT), else partials part[chunk·C + c] that sum_partials adds up.
// sum_partials: out[i] (+)= Σ_z part[z·L + i] (channel_sum chunks, conv2d split-K partials).
// argmax: one invocation per row, first maximum on ties. count_equal: one workgroup.
#default DIRECT false
#default ACCUMULATE false

var<workgroup> red: array<f32, 256>;

/** Tree sum of red[0..256) into red[0]; every invocation of the workgroup must call it. */
fn reduceSum(li: u32, value: f32) -> f32 {
  red[li] = value;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (li < s) { red[li] = red[li] + red[li + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

struct ChannelSumParams { outer: u32, channels: u32, inner: u32, perChunk: u32 }
@group(0) @binding(0) var<uniform> csP: ChannelSumParams;
@group(0) @binding(1) var<storage, read> csX: array<f32>;
@group(0) @binding(2) var<storage, read_write> csOut: array<f32>;

@compute @workgroup_size(256)
fn channel_sum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.y;
  let count = csP.outer * csP.inner;
  let begin = wg.x * csP.perChunk;
  let end = min(count, begin + csP.perChunk);
  var s = 0.0;
  for (var e = begin + li; e < end; e += 256u) {
    s += csX[((e / csP.inner) * csP.channels + c) * csP.inner + e % csP.inner];
  }
  let total = reduceSum(li, s);
  if (li == 0u) {
    if (DIRECT) {
      var v = total;
      if (ACCUMULATE) { v += csOut[c]; }
      csOut[c] = v;
    } else {
      csOut[wg.x * csP.channels + c] = total;
    }
  }
}

struct PartialsParams { length: u32, parts: u32 }
@group(0) @binding(0) var<uniform> spP: PartialsParams;
@group(0) @binding(1) var<storage, read> spPart: array<f32>;
@group(0) @binding(2) var<storage, read_write> spOut: array<f32>;

@compute @workgroup_size(256)
fn sum_partials(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= spP.length) { return; }
  var s = 0.0;
  for (var z = 0u; z < spP.parts; z++) { s += spPart[z * spP.length + i]; }
  if (ACCUMULATE) { s += spOut[i]; }
  spOut[i] = s;
}

struct ArgmaxParams { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> amP: ArgmaxParams;
@group(0) @binding(1) var<storage, read> amX: array<f32>;
@group(0) @binding(2) var<storage, read_write> amOut: array<i32>;

@compute @workgroup_size(64)
fn argmax(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= amP.rows) { return; }
  let base = r * amP.cols;
  var best = amX[base];
  var bestIndex = 0u;
  for (var j = 1u; j < amP.cols; j++) {
    let v = amX[base + j];
    if (v > best) { best = v; bestIndex = j; }
  }
  amOut[r] = i32(bestIndex);
}

struct CountParams { n: u32 }
@group(0) @binding(0) var<uniform> ceP: CountParams;
@group(0) @binding(1) var<storage, read> ceA: array<i32>;
@group(0) @binding(2) var<storage, read> ceB: array<i32>;
@group(0) @binding(3) var<storage, read_write> ceOut: array<f32>;

@compute @workgroup_size(256)
fn count_equal(@builtin(local_invocation_index) li: u32) {
  var count = 0.0;
  for (var i = li; i < ceP.n; i += 256u) {
    if (ceA[i] == ceB[i]) { count += 1.0; }
  }
  let total = reduceSum(li, count);
  if (li == 0u) {
    var v = total;
    if (ACCUMULATE) { v += ceOut[0]; }
    ceOut[0] = v;
  }
}
