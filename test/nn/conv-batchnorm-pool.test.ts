// The fused first-layer op F.convBatchNormMaxPool2d (conv → batch norm (training) → activation →
// max pool, input without gradient): its gradients by finite differences on ref, the bias's zero
// gradient, the accumulate rules, the same values as conv2d + batchNormMaxPool2d on ref and cpu,
// and its errors.

import t from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { F, Tensor, noGrad, tidy } from '../../src/nn/index.ts';
import { Rng } from '../../src/nn/random.ts';
import { gradCheck, randn, refBackend, toF32 } from './helpers.ts';

const ref = await refBackend();
const cpu = await createCpuBackend().catch((err: unknown) => err as Error);
const cpuSkip = cpu instanceof Error ? `cpu addon not built: ${cpu.message}` : false;

interface Layer {
  x: Tensor;
  w: Tensor;
  b: Tensor | null;
  gamma: Tensor;
  beta: Tensor;
  rm: Tensor;
  rv: Tensor;
  r: Tensor;
}

/** A first layer's tensors: x without gradient, w, b, γ (one of each sign at least), β with. */
function layer(be: Backend, seed: number, [n, cIn, h, w]: number[], cOut: number, k: number, withBias: boolean, pooled: number[]): Layer {
  const rng = new Rng(seed);
  const gamma = Float32Array.from({ length: cOut }, (_, i) => (i % 2 === 1 ? -1 : 1) * (0.5 + rng.nextFloat()));
  return {
    x: randn(be, [n, cIn, h, w], rng),
    w: randn(be, [cOut, cIn, k, k], rng, { requiresGrad: true, scale: 0.5 }),
    b: withBias ? randn(be, [cOut], rng, { requiresGrad: true, scale: 0.3 }) : null,
    gamma: Tensor.fromArray(be, gamma, [cOut], { requiresGrad: true }),
    beta: randn(be, [cOut], rng, { requiresGrad: true, scale: 0.3 }),
    rm: Tensor.zeros(be, [cOut]),
    rv: Tensor.full(be, [cOut], 1),
    r: randn(be, [n, cOut, ...pooled], rng),
  };
}

function disposeLayer(l: Layer): void {
  for (const v of Object.values(l)) if (v !== null) (v as Tensor).dispose();
}

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0) / Math.max(1e-6, maxAbs(b));

t.test('finite differences on ref: dw, dγ, dβ (3x3 pad 1 and 2x2 pool, 5x5 with overlapping 3x3 windows; ReLU and none)', async (t) => {
  const shapes = [
    { x: [2, 1, 6, 7], cOut: 3, k: 3, pad: 1, stride: 1, pool: 2, poolStride: 2, act: 'relu' as const, pooled: [3, 3] },
    { x: [3, 2, 7, 6], cOut: 2, k: 3, pad: 0, stride: 1, pool: 2, poolStride: 2, act: 'none' as const, pooled: [2, 2] },
    { x: [2, 1, 9, 9], cOut: 2, k: 5, pad: 2, stride: 1, pool: 3, poolStride: 2, act: 'relu' as const, pooled: [4, 4] },
  ];
  for (const [i, s] of shapes.entries()) {
    const l = layer(ref, 20 + i, s.x, s.cOut, s.k, true, s.pooled);
    const loss = (): Tensor => F.sum(F.mul(F.convBatchNormMaxPool2d(l.x, l.w, l.b, l.gamma, l.beta, l.rm, l.rv, {
      stride: s.stride, pad: s.pad, activation: s.act, poolKernel: s.pool, poolStride: s.poolStride,
    }), l.r));
    const res = await gradCheck([l.w, l.gamma, l.beta], loss);
    t.ok(res.ok, `${s.x.join('x')} k${s.k} pool${s.pool} ${s.act}: ${res.checked} elements, worst ${JSON.stringify(res.worst)}`);
    disposeLayer(l);
  }
});

t.test('the bias gets an exactly zero gradient, overwritten when fresh and left as it was when accumulating', async (t) => {
  const l = layer(ref, 3, [2, 1, 6, 6], 4, 3, true, [3, 3]);
  const step = (): void => tidy(() => F.sum(F.mul(F.convBatchNormMaxPool2d(l.x, l.w, l.b, l.gamma, l.beta, l.rm, l.rv, {
    pad: 1, activation: 'relu', poolKernel: 2,
  }), l.r)).backward());
  // a stale gradient from another graph must be overwritten
  tidy(() => F.sum(F.mul(l.b!, l.b!)).backward());
  t.notSame(Array.from(await toF32(l.b!.grad!)), [0, 0, 0, 0], 'the bias holds a gradient from before');
  l.b!.zeroGrad();
  for (const p of [l.w, l.gamma, l.beta]) p.zeroGrad();
  step();
  t.same(Array.from(await toF32(l.b!.grad!)), [0, 0, 0, 0], 'fresh: written as zeros');
  const once = await Promise.all([l.w, l.gamma, l.beta].map(async (p) => Array.from(await toF32(p.grad!))));
  step(); // no zeroGrad: accumulates
  t.same(Array.from(await toF32(l.b!.grad!)), [0, 0, 0, 0], 'accumulating: still zero');
  const twice = await Promise.all([l.w, l.gamma, l.beta].map(async (p) => Array.from(await toF32(p.grad!))));
  for (const [i, name] of ['w', 'γ', 'β'].entries()) {
    t.ok(relDiff(twice[i], once[i].map((v) => 2 * v)) < 1e-5, `${name}: a second backward adds its gradient`);
  }
  disposeLayer(l);
});

t.test('one gradient accumulating and the others fresh: each gets its own sum', async (t) => {
  const l = layer(ref, 4, [2, 1, 6, 6], 3, 3, false, [3, 3]);
  const run = (): Tensor => F.sum(F.mul(F.convBatchNormMaxPool2d(l.x, l.w, null, l.gamma, l.beta, l.rm, l.rv, {
    pad: 1, poolKernel: 2,
  }), l.r));
  tidy(() => run().backward());
  const base = await Promise.all([l.w, l.gamma, l.beta].map(async (p) => Array.from(await toF32(p.grad!))));
  // w's gradient is valid (accumulates), γ's and β's are stale (overwritten): one kernel flag for all three
  l.gamma.zeroGrad();
  l.beta.zeroGrad();
  tidy(() => run().backward());
  t.ok(relDiff(Array.from(await toF32(l.w.grad!)), base[0].map((v) => 2 * v)) < 1e-5, 'w: twice');
  t.ok(relDiff(Array.from(await toF32(l.gamma.grad!)), base[1]) < 1e-5, 'γ: once');
  t.ok(relDiff(Array.from(await toF32(l.beta.grad!)), base[2]) < 1e-5, 'β: once');
  // and the other way round
  l.w.zeroGrad();
  tidy(() => run().backward());
  t.ok(relDiff(Array.from(await toF32(l.w.grad!)), base[0]) < 1e-5, 'w: once');
  t.ok(relDiff(Array.from(await toF32(l.gamma.grad!)), base[1].map((v) => 2 * v)) < 1e-5, 'γ: twice');
  disposeLayer(l);
});

/** The fused op and conv2d + batchNormMaxPool2d on the same tensors: outputs, gradients and running stats. */
async function fusedAndUnfused(be: Backend, seed: number): Promise<{ fused: number[][]; plain: number[][] }> {
  const l = layer(be, seed, [3, 1, 13, 11], 5, 3, true, [6, 5]);
  const opts = { pad: 1, activation: 'relu' as const, momentum: 0.1, eps: 1e-5 };
  const run = async (fused: boolean): Promise<number[][]> => {
    for (const p of [l.w, l.b!, l.gamma, l.beta]) p.zeroGrad();
    const rm = Tensor.zeros(be, [5]);
    const rv = Tensor.full(be, [5], 1);
    const out = tidy(() => {
      const y = fused
        ? F.convBatchNormMaxPool2d(l.x, l.w, l.b, l.gamma, l.beta, rm, rv, { ...opts, poolKernel: 2 })
        : F.batchNormMaxPool2d(F.conv2d(l.x, l.w, l.b, { pad: 1 }), l.gamma, l.beta, rm, rv, { ...opts, kernel: 2 });
      F.sum(F.mul(y, l.r)).backward();
      return y;
    });
    const res = await Promise.all([out, l.w.grad!, l.b!.grad!, l.gamma.grad!, l.beta.grad!, rm, rv].map(async (v) => Array.from(await toF32(v))));
    for (const v of [out, rm, rv]) v.dispose();
    return res;
  };
  const res = { fused: await run(true), plain: await run(false) };
  disposeLayer(l);
  return res;
}

const outputNames = ['out', 'dw', 'db', 'dγ', 'dβ', 'running_mean', 'running_var'];

t.test('the same values as conv2d + batchNormMaxPool2d on ref', async (t) => {
  const { fused, plain } = await fusedAndUnfused(ref, 7);
  for (const [i, name] of outputNames.entries()) {
    if (name === 'db') {
      t.same(fused[i], [0, 0, 0, 0, 0], 'db: zero (the unfused db is rounding noise)');
      t.ok(maxAbs(plain[i]) < 1e-4 * maxAbs(plain[1]), `unfused db ${maxAbs(plain[i]).toExponential(1)} is noise next to dw`);
    } else {
      t.ok(relDiff(fused[i], plain[i]) < 1e-5, `${name}: ${relDiff(fused[i], plain[i]).toExponential(1)}`);
    }
  }
});

t.test('the same values as conv2d + batchNormMaxPool2d on cpu', { skip: cpuSkip }, async (t) => {
  if (cpu instanceof Error) return;
  const { fused, plain } = await fusedAndUnfused(cpu, 7);
  const onRef = await fusedAndUnfused(ref, 7);
  for (const [i, name] of outputNames.entries()) {
    if (name === 'db') {
      t.same(fused[i], [0, 0, 0, 0, 0], 'db: zero');
      continue;
    }
    t.ok(relDiff(fused[i], plain[i]) < 1e-4, `${name}: fused vs unfused ${relDiff(fused[i], plain[i]).toExponential(1)}`);
    t.ok(relDiff(fused[i], onRef.fused[i]) < 1e-4, `${name}: cpu vs ref ${relDiff(fused[i], onRef.fused[i]).toExponential(1)}`);
  }
});

t.test('without recording (noGrad, or nothing requiring a gradient): the forward only, running stats updated', async (t) => {
  const l = layer(ref, 8, [2, 1, 6, 6], 3, 3, true, [3, 3]);
  const y = noGrad(() => F.convBatchNormMaxPool2d(l.x, l.w, l.b, l.gamma, l.beta, l.rm, l.rv, { pad: 1, poolKernel: 2 }));
  t.same(y.shape, [2, 3, 3, 3]);
  t.equal(y.requiresGrad, false, 'nothing recorded');
  t.notSame(Array.from(await toF32(l.rm)), [0, 0, 0], 'running mean updated');
  y.dispose();
  disposeLayer(l);
});

t.test('errors: an input that needs a gradient, and bad shapes, each naming the fix', async (t) => {
  const l = layer(ref, 9, [2, 1, 6, 6], 3, 3, true, [3, 3]);
  const call = (over: Partial<Layer & { opts: object }> = {}) => {
    const a = { ...l, ...over };
    return () => F.convBatchNormMaxPool2d(a.x, a.w, a.b, a.gamma, a.beta, a.rm, a.rv, { pad: 1, poolKernel: 2, ...(over.opts ?? {}) });
  };
  const xGrad = randn(ref, [2, 1, 6, 6], new Rng(1), { requiresGrad: true });
  t.throws(call({ x: xGrad }), /convBatchNormMaxPool2d: x \[2, 1, 6, 6\] needs a gradient.*use conv2d then batchNormMaxPool2d/);
  t.doesNotThrow(() => noGrad(() => call({ x: xGrad })().dispose()), 'under noGrad it needs none');
  const wrong = (shape: number[]) => Tensor.zeros(ref, shape);
  t.throws(call({ x: wrong([2, 6, 6]) }), /convBatchNormMaxPool2d: x must have rank 4, got shape \[2, 6, 6\]/);
  t.throws(call({ w: wrong([3, 2, 3, 3]) }), /weight \[3, 2, 3, 3\] expects 2 input channels but x \[2, 1, 6, 6\] has 1/);
  t.throws(call({ b: wrong([4]) }), /convBatchNormMaxPool2d: bias must have shape \[3\], got \[4\]/);
  t.throws(call({ gamma: wrong([4]) }), /convBatchNormMaxPool2d: gamma must have shape \[3\], got \[4\]/);
  t.throws(call({ rv: wrong([3, 1]) }), /convBatchNormMaxPool2d: running_var must have shape \[3\], got \[3, 1\]/);
  t.throws(call({ opts: { poolKernel: 0 } }), /kernel and stride must be positive integers, got kernel 0/);
  t.throws(call({ opts: { poolKernel: 7 } }), /a 7x7 window does not fit the convolution output \[2, 3, 6, 6\] of x \[2, 1, 6, 6\]/);
  t.throws(call({ opts: { pad: 0 }, w: wrong([3, 1, 7, 7]) }), /a 7x7 kernel with pad 0 does not fit the 6x6 input/);
  t.throws(call({ x: wrong([1, 1, 1, 1]), opts: { pad: 1, poolKernel: 1 } }), /training needs more than 1 value per channel, got convolution output \[1, 3, 1, 1\]/);
  xGrad.dispose();
  disposeLayer(l);
});
