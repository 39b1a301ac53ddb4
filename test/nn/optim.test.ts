// Optimizer updates against PyTorch's update rules written out by hand (float64 on the host),
// for three steps with a different gradient each step and an lr change between steps.

import t from 'tap';
import { Adam, AdamW, F, SGD, Tensor, tidy, type Optimizer } from '../../src/nn/index.ts';
import { Rng } from '../../src/nn/random.ts';
import { refBackend, toF32 } from './helpers.ts';

const be = await refBackend();
const N = 5;
const rng = new Rng(21);
const p0 = Array.from({ length: N }, () => rng.normal());
const grads = [0, 1, 2].map(() => Array.from({ length: N }, () => rng.normal()));
const lrs = [0.1, 0.05, 0.2];

/** Sets p.grad to g through a real backward: L = Σ p·g. */
function backwardWithGrad(p: Tensor, g: number[]): void {
  tidy(() => F.sum(F.mul(p, Tensor.fromArray(be, g, [N]))).backward());
}

async function run(make: (p: Tensor) => Optimizer, steps = 3): Promise<Float32Array> {
  const p = Tensor.fromArray(be, p0, [N], { requiresGrad: true });
  const opt = make(p);
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    backwardWithGrad(p, grads[s]);
    opt.lr = lrs[s];
    opt.step();
  }
  const out = await toF32(p);
  opt.dispose();
  p.dispose();
  return out;
}

function sgdReference(o: { momentum: number; dampening: number; nesterov: boolean; wd: number }): number[] {
  const p = p0.slice();
  let buf: number[] | null = null;
  for (let s = 0; s < 3; s++) {
    let d = grads[s].map((g, i) => g + o.wd * p[i]);
    if (o.momentum !== 0) {
      // torch: buf = clone(d_p) on the first step, else buf·μ + (1 − dampening)·d_p
      buf = buf === null ? d.slice() : buf.map((b, i) => o.momentum * b + (1 - o.dampening) * d[i]);
      const bb = buf;
      d = o.nesterov ? d.map((di, i) => di + o.momentum * bb[i]) : bb.slice();
    }
    for (let i = 0; i < N; i++) p[i] -= lrs[s] * d[i];
  }
  return p;
}

function adamReference(o: { b1: number; b2: number; eps: number; wd: number; decoupled: boolean }): number[] {
  const p = p0.slice();
  const m = new Array<number>(N).fill(0);
  const v = new Array<number>(N).fill(0);
  for (let s = 0; s < 3; s++) {
    const step = s + 1;
    const lr = lrs[s];
    for (let i = 0; i < N; i++) {
      let g = grads[s][i];
      if (o.decoupled) p[i] *= 1 - lr * o.wd;
      else g += o.wd * p[i];
      m[i] = o.b1 * m[i] + (1 - o.b1) * g;
      v[i] = o.b2 * v[i] + (1 - o.b2) * g * g;
      const bc1 = 1 - o.b1 ** step;
      const bc2 = 1 - o.b2 ** step;
      p[i] -= (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps));
    }
  }
  return p;
}

function close(t: { ok(v: boolean, msg: string): unknown }, got: Float32Array, want: number[], what: string): void {
  const err = Math.max(...want.map((w, i) => Math.abs(w - got[i]) / Math.max(1, Math.abs(w))));
  t.ok(err < 2e-6, `${what}: max relative error ${err.toExponential(2)}`);
}

t.test('SGD matches torch.optim.SGD', async (t) => {
  const cases = [
    { momentum: 0, dampening: 0, nesterov: false, wd: 0 },
    { momentum: 0, dampening: 0, nesterov: false, wd: 0.1 },
    { momentum: 0.9, dampening: 0, nesterov: false, wd: 0 },
    { momentum: 0.9, dampening: 0.3, nesterov: false, wd: 0.05 },
    { momentum: 0.8, dampening: 0, nesterov: true, wd: 0.01 },
  ];
  for (const c of cases) {
    const got = await run((p) => new SGD([p], { lr: 1, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov, weightDecay: c.wd }));
    close(t, got, sgdReference(c), JSON.stringify(c));
  }
  t.throws(() => new SGD([Tensor.zeros(be, [1], { requiresGrad: true })], { lr: 1, nesterov: true }), /nesterov/);
});

t.test('Adam and AdamW match torch.optim (bias correction, weight decay)', async (t) => {
  close(t, await run((p) => new Adam([p])), adamReference({ b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false }), 'Adam defaults');
  close(
    t,
    await run((p) => new Adam([p], { betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 })),
    adamReference({ b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.1, decoupled: false }),
    'Adam with L2 weight decay',
  );
  close(t, await run((p) => new AdamW([p])), adamReference({ b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: true }), 'AdamW defaults (wd 0.01)');
  close(
    t,
    await run((p) => new AdamW([p], { weightDecay: 0.3 })),
    adamReference({ b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.3, decoupled: true }),
    'AdamW wd 0.3',
  );
});

t.test('a parameter without a gradient since zeroGrad is left alone (and its Adam step count too)', async (t) => {
  const a = Tensor.fromArray(be, [1, 2], [2], { requiresGrad: true });
  const b = Tensor.fromArray(be, [3, 4], [2], { requiresGrad: true });
  const opt = new Adam([a, b], { lr: 0.1 });
  opt.zeroGrad();
  tidy(() => F.sum(a).backward());
  opt.step();
  t.same(Array.from(await toF32(b)), [3, 4], 'b untouched');
  t.not(Array.from(await toF32(a))[0], 1, 'a moved');
  const sd = await opt.stateDict();
  t.same(sd.steps, [1, 0]);
  t.same(Object.keys(sd.tensors).sort(), ['0.exp_avg', '0.exp_avg_sq']);
  opt.dispose();
});

t.test('stateDict / loadStateDict resume gives the same trajectory', async (t) => {
  for (const make of [
    (p: Tensor) => new SGD([p], { lr: 1, momentum: 0.9, dampening: 0.1 }),
    (p: Tensor) => new AdamW([p], { weightDecay: 0.1 }),
  ]) {
    const straight = await run(make, 3);
    // two steps, save, then a fresh optimizer on a fresh copy of the parameter continues
    const p = Tensor.fromArray(be, p0, [N], { requiresGrad: true });
    const opt = make(p);
    for (let s = 0; s < 2; s++) {
      opt.zeroGrad();
      backwardWithGrad(p, grads[s]);
      opt.lr = lrs[s];
      opt.step();
    }
    const sd = await opt.stateDict();
    const p2 = Tensor.fromArray(be, await toF32(p), [N], { requiresGrad: true });
    const opt2 = make(p2);
    opt2.loadStateDict(sd);
    opt2.zeroGrad();
    backwardWithGrad(p2, grads[2]);
    opt2.lr = lrs[2];
    opt2.step();
    t.same(Array.from(await toF32(p2)), Array.from(straight), `${opt.type}: resumed run is bit-identical`);
    t.throws(() => new SGD([p2], { lr: 1 }).loadStateDict({ ...sd, type: 'Adam' }), /is for Adam/);
    for (const o of [opt, opt2]) o.dispose();
    p.dispose();
    p2.dispose();
  }
});
