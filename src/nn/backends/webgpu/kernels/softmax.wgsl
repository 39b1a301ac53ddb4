// Softmax along the columns of a [rows, cols] matrix, and the fused softmax + cross-entropy.
// softmax / log_softmax / ce_forward: one workgroup of 64 per row (max, then Σ exp(x − max),
//   both as workgroup tree reductions).
// ce_forward writes probs and each row's loss −Σ_j t_j·log p_j with
//   t = (1 − s)·onehot(label) + s/cols, i.e. −((1 − s)·logp[label] + s/cols·Σ_j logp_j);
// ce_mean averages the row losses in one workgroup (deterministic, no atomics);
// ce_backward: dlogits (+)= dloss[0]·(p − t)/rows, one invocation per element.
#default LOG false
#default ACCUMULATE false

var<workgroup> red: array<f32, 64>;

fn reduce64(li: u32, value: f32, isMax: bool) -> f32 {
  red[li] = value;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (li < s) {
      if (isMax) { red[li] = max(red[li], red[li + s]); } else { red[li] = red[li] + red[li + s]; }
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

struct RowParams { rows: u32, cols: u32, smoothing: f32 }

fn rowIndex(wg: vec3<u32>, nwg: vec3<u32>) -> u32 { return wg.x + wg.y * nwg.x; }

// ---- softmax / log_softmax (LOG) ----
@group(0) @binding(0) var<uniform> smP: RowParams;
@group(0) @binding(1) var<storage, read> smX: array<f32>;
@group(0) @binding(2) var<storage, read_write> smOut: array<f32>;

@compute @workgroup_size(64)
fn softmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = rowIndex(wg, nwg);
  if (r >= smP.rows) { return; } // uniform per workgroup, so barriers stay uniform
  let base = r * smP.cols;
  var m = -3.402823e38;
  for (var j = li; j < smP.cols; j += 64u) { m = max(m, smX[base + j]); }
  m = reduce64(li, m, true);
  var s = 0.0;
  for (var j = li; j < smP.cols; j += 64u) { s += exp(smX[base + j] - m); }
  s = reduce64(li, s, false);
  let logS = log(s);
  for (var j = li; j < smP.cols; j += 64u) {
    if (LOG) { smOut[base + j] = smX[base + j] - m - logS; } else { smOut[base + j] = exp(smX[base + j] - m) / s; }
  }
}

// ---- ce_forward ----
@group(0) @binding(0) var<uniform> cfP: RowParams;
@group(0) @binding(1) var<storage, read> cfLogits: array<f32>;
@group(0) @binding(2) var<storage, read> cfLabels: array<i32>;
@group(0) @binding(3) var<storage, read_write> cfProbs: array<f32>;
@group(0) @binding(4) var<storage, read_write> cfRowLoss: array<f32>;

@compute @workgroup_size(64)
fn ce_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = rowIndex(wg, nwg);
  if (r >= cfP.rows) { return; }
  let base = r * cfP.cols;
  var m = -3.402823e38;
  for (var j = li; j < cfP.cols; j += 64u) { m = max(m, cfLogits[base + j]); }
  m = reduce64(li, m, true);
  var s = 0.0;
  for (var j = li; j < cfP.cols; j += 64u) { s += exp(cfLogits[base + j] - m); }
  s = reduce64(li, s, false);
  let logS = log(s);
  var sumLogp = 0.0;
  for (var j = li; j < cfP.cols; j += 64u) {
    let logp = cfLogits[base + j] - m - logS;
    cfProbs[base + j] = exp(logp);
    sumLogp += logp;
  }
  sumLogp = reduce64(li, sumLogp, false);
  if (li == 0u) {
    let label = u32(cfLabels[r]); // a negative label wraps to a huge u32
    let s = cfP.smoothing;
    if (label < cfP.cols) {
      let logpLabel = cfLogits[base + label] - m - logS;
      cfRowLoss[r] = -((1.0 - s) * logpLabel + s / f32(cfP.cols) * sumLogp);
    } else {
      // NaN (a quiet-NaN bit pattern built at run time: WGSL rejects NaN constants), since a
      // shader cannot throw; ref throws for such labels.
      cfRowLoss[r] = bitcast<f32>(0x7fc00000u | label);
    }
  }
}

// ---- ce_mean: loss[0] = Σ rowLoss / rows ----
var<workgroup> red256: array<f32, 256>;
@group(0) @binding(0) var<uniform> cmP: RowParams;
@group(0) @binding(1) var<storage, read> cmRowLoss: array<f32>;
@group(0) @binding(2) var<storage, read_write> cmLoss: array<f32>;

@compute @workgroup_size(256)
fn ce_mean(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var r = li; r < cmP.rows; r += 256u) { s += cmRowLoss[r]; }
  red256[li] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k = k >> 1u) {
    if (li < k) { red256[li] = red256[li] + red256[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u) { cmLoss[0] = red256[0] / f32(cmP.rows); }
}

// ---- ce_backward ----
@group(0) @binding(0) var<uniform> cbP: RowParams;
@group(0) @binding(1) var<storage, read> cbProbs: array<f32>;
@group(0) @binding(2) var<storage, read> cbLabels: array<i32>;
@group(0) @binding(3) var<storage, read> cbDloss: array<f32>;
@group(0) @binding(4) var<storage, read_write> cbDlogits: array<f32>;

@compute @workgroup_size(256)
fn ce_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= cbP.rows * cbP.cols) { return; }
  let r = i / cbP.cols;
  let j = i % cbP.cols;
  let s = cbP.smoothing;
  var t = s / f32(cbP.cols);
  if (u32(cbLabels[r]) == j) { t += 1.0 - s; }
  var g = cbDloss[0] * (cbProbs[i] - t) / f32(cbP.rows);
  if (ACCUMULATE) { g += cbDlogits[i]; }
  cbDlogits[i] = g;
}
