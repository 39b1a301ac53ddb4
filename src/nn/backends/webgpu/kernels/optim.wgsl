// Optimizer updates, in place, one invocation per parameter element (torch.optim semantics as
// written in src/nn/backend.ts).
// SGD:  g = grad + wd·p; with MOMENTUM: v = μ·v + (1 − dampening)·g; g = nesterov ? g + μ·v : v;
//       p −= lr·g.
// Adam: g = grad + wd·p (Adam) or p −= lr·wd·p first (AdamW, decoupled);
//       m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
//       p −= lr·(m / bc1) / (sqrt(v / bc2) + eps), bc1 = 1 − β1^t and bc2 = 1 − β2^t from the host.
#default MOMENTUM false

struct SgdParams { n: u32, nesterov: u32, lr: f32, momentum: f32, dampening: f32, weightDecay: f32 }
@group(0) @binding(0) var<uniform> sgP: SgdParams;
@group(0) @binding(1) var<storage, read_write> sgParam: array<f32>;
@group(0) @binding(2) var<storage, read> sgGrad: array<f32>;
#if MOMENTUM
@group(0) @binding(3) var<storage, read_write> sgVel: array<f32>;
#endif

@compute @workgroup_size(256)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= sgP.n) { return; }
  let p = sgParam[i];
  var g = sgGrad[i] + sgP.weightDecay * p;
#if MOMENTUM
  let v = sgP.momentum * sgVel[i] + (1.0 - sgP.dampening) * g;
  sgVel[i] = v;
  if (sgP.nesterov != 0u) { g = g + sgP.momentum * v; } else { g = v; }
#endif
  sgParam[i] = p - sgP.lr * g;
}

struct AdamParams { n: u32, decoupled: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, bc1: f32, bc2: f32 }
@group(0) @binding(0) var<uniform> adP: AdamParams;
@group(0) @binding(1) var<storage, read_write> adParam: array<f32>;
@group(0) @binding(2) var<storage, read> adGrad: array<f32>;
@group(0) @binding(3) var<storage, read_write> adM: array<f32>;
@group(0) @binding(4) var<storage, read_write> adV: array<f32>;

@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= adP.n) { return; }
  var p = adParam[i];
  var g = adGrad[i];
  if (adP.decoupled != 0u) { p = p - adP.lr * adP.weightDecay * p; } else { g = g + adP.weightDecay * p; }
  let m = adP.beta1 * adM[i] + (1.0 - adP.beta1) * g;
  let v = adP.beta2 * adV[i] + (1.0 - adP.beta2) * g * g;
  adM[i] = m;
  adV[i] = v;
  adParam[i] = p - adP.lr * (m / adP.bc1) / (sqrt(v / adP.bc2) + adP.eps);
}
