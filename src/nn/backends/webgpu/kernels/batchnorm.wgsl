// Batch normalisation over x viewed [n, C, spatial] (spatial = H·W for 2d, 1 for 1d).
// Training:  stats (one workgroup per channel: mean, biased var by a second pass over
//            (x − mean)², running-stat update with the unbiased var), then apply.
// Inference: apply with INFERENCE (running mean/var, invStd computed per element).
// apply: out = (x − mean)·invStd·γ + β, then ReLU when RELU (the fused epilogue).
// Backward:  backward_reduce (per channel Σdy, Σdy·x̂ → dγ, dβ and a sums scratch), then
//            backward_dx: dx = γ·invStd/N'·(N'·dy − Σdy − x̂·Σdy·x̂), N' = n·spatial.
#default INFERENCE false
#default RELU false
#default ACCUMULATE false

var<workgroup> red: array<f32, 256>;

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

struct BnParams { n: u32, channels: u32, spatial: u32, total: u32, eps: f32, momentum: f32 }

fn elementIndex(p: BnParams, c: u32, e: u32) -> u32 {
  return ((e / p.spatial) * p.channels + c) * p.spatial + e % p.spatial;
}

// ---- stats ----
@group(0) @binding(0) var<uniform> stP: BnParams;
@group(0) @binding(1) var<storage, read> stX: array<f32>;
@group(0) @binding(2) var<storage, read_write> stRunMean: array<f32>;
@group(0) @binding(3) var<storage, read_write> stRunVar: array<f32>;
@group(0) @binding(4) var<storage, read_write> stSaveMean: array<f32>;
@group(0) @binding(5) var<storage, read_write> stSaveInvStd: array<f32>;

@compute @workgroup_size(256)
fn stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.x;
  let count = stP.n * stP.spatial;
  var s = 0.0;
  for (var e = li; e < count; e += 256u) { s += stX[elementIndex(stP, c, e)]; }
  let mean = reduceSum(li, s) / f32(count);
  var q = 0.0;
  for (var e = li; e < count; e += 256u) {
    let d = stX[elementIndex(stP, c, e)] - mean;
    q += d * d;
  }
  let variance = reduceSum(li, q) / f32(count);
  if (li == 0u) {
    stSaveMean[c] = mean;
    stSaveInvStd[c] = 1.0 / sqrt(variance + stP.eps);
    var unbiased = variance;
    if (count > 1u) { unbiased = variance * f32(count) / f32(count - 1u); }
    let m = stP.momentum;
    stRunMean[c] = (1.0 - m) * stRunMean[c] + m * mean;
    stRunVar[c] = (1.0 - m) * stRunVar[c] + m * unbiased;
  }
}

// ---- apply: stat1 = mean, stat2 = invStd (training) or running var (INFERENCE) ----
@group(0) @binding(0) var<uniform> apP: BnParams;
@group(0) @binding(1) var<storage, read> apX: array<f32>;
@group(0) @binding(2) var<storage, read> apGamma: array<f32>;
@group(0) @binding(3) var<storage, read> apBeta: array<f32>;
@group(0) @binding(4) var<storage, read> apStat1: array<f32>;
@group(0) @binding(5) var<storage, read> apStat2: array<f32>;
@group(0) @binding(6) var<storage, read_write> apOut: array<f32>;

@compute @workgroup_size(256)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= apP.total) { return; }
  let c = (i / apP.spatial) % apP.channels;
  var inv = apStat2[c];
  if (INFERENCE) { inv = 1.0 / sqrt(inv + apP.eps); }
  var v = (apX[i] - apStat1[c]) * inv * apGamma[c] + apBeta[c];
  if (RELU) { v = max(v, 0.0); }
  apOut[i] = v;
}

// ---- backward_reduce ----
@group(0) @binding(0) var<uniform> brP: BnParams;
@group(0) @binding(1) var<storage, read> brX: array<f32>;
@group(0) @binding(2) var<storage, read> brDy: array<f32>;
@group(0) @binding(3) var<storage, read> brMean: array<f32>;
@group(0) @binding(4) var<storage, read> brInvStd: array<f32>;
@group(0) @binding(5) var<storage, read_write> brDgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> brDbeta: array<f32>;
@group(0) @binding(7) var<storage, read_write> brSums: array<f32>;

@compute @workgroup_size(256)
fn backward_reduce(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.x;
  let count = brP.n * brP.spatial;
  let mean = brMean[c];
  let inv = brInvStd[c];
  var sdy = 0.0;
  var sdyx = 0.0;
  for (var e = li; e < count; e += 256u) {
    let i = elementIndex(brP, c, e);
    let dy = brDy[i];
    sdy += dy;
    sdyx += dy * (brX[i] - mean) * inv;
  }
  let sumDy = reduceSum(li, sdy);
  let sumDyXhat = reduceSum(li, sdyx);
  if (li == 0u) {
    brSums[2u * c] = sumDy;
    brSums[2u * c + 1u] = sumDyXhat;
    if (ACCUMULATE) {
      brDgamma[c] = brDgamma[c] + sumDyXhat;
      brDbeta[c] = brDbeta[c] + sumDy;
    } else {
      brDgamma[c] = sumDyXhat;
      brDbeta[c] = sumDy;
    }
  }
}

// ---- backward_dx ----
@group(0) @binding(0) var<uniform> bdP: BnParams;
@group(0) @binding(1) var<storage, read> bdX: array<f32>;
@group(0) @binding(2) var<storage, read> bdDy: array<f32>;
@group(0) @binding(3) var<storage, read> bdGamma: array<f32>;
@group(0) @binding(4) var<storage, read> bdMean: array<f32>;
@group(0) @binding(5) var<storage, read> bdInvStd: array<f32>;
@group(0) @binding(6) var<storage, read> bdSums: array<f32>;
@group(0) @binding(7) var<storage, read_write> bdDx: array<f32>;

@compute @workgroup_size(256)
fn backward_dx(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= bdP.total) { return; }
  let c = (i / bdP.spatial) % bdP.channels;
  let count = f32(bdP.n * bdP.spatial);
  let inv = bdInvStd[c];
  let xhat = (bdX[i] - bdMean[c]) * inv;
  bdDx[i] = bdGamma[c] * inv / count * (count * bdDy[i] - bdSums[2u * c] - xhat * bdSums[2u * c + 1u]);
}
