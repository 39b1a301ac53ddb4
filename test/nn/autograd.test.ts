// Autograd semantics: accumulation, zeroGrad, noGrad, tidy/keep, views, and the errors users hit.

import t from 'tap';
import { F, Tensor, keep, noGrad, scopeDepth, tidy } from '../../src/nn/index.ts';
import { refBackend, toF32 } from './helpers.ts';

const be = await refBackend();

t.test('a tensor used twice gets the sum of both gradients', async (t) => {
  const x = Tensor.fromArray(be, [1, -2, 3], [3], { requiresGrad: true });
  const w = Tensor.fromArray(be, [0.5, 0.5, 0.5], [3]);
  tidy(() => {
    // L = Σ x·x + Σ 3x  → dL/dx = 2x + 3
    const l = F.add(F.sum(F.mul(x, x)), F.sum(F.scale(x, 3)));
    l.backward();
  });
  t.same(Array.from(await toF32(x.grad!)), [5, -1, 9]);
  // x + x through one add
  x.zeroGrad();
  tidy(() => F.sum(F.mul(F.add(x, x), w)).backward());
  t.same(Array.from(await toF32(x.grad!)), [1, 1, 1]);
});

t.test('gradients accumulate across backward calls until zeroGrad, which makes the next one overwrite', async (t) => {
  const x = Tensor.fromArray(be, [1, 2], [2], { requiresGrad: true });
  const step = (): void => tidy(() => F.sum(F.scale(x, 2)).backward());
  t.equal(x.grad, null, 'no gradient before the first backward');
  step();
  t.same(Array.from(await toF32(x.grad!)), [2, 2]);
  step();
  t.same(Array.from(await toF32(x.grad!)), [4, 4], 'second backward adds');
  const gradBuffer = x.grad!.buffer;
  x.zeroGrad();
  t.equal(x.grad, null, 'zeroGrad hides the stale gradient');
  step();
  t.same(Array.from(await toF32(x.grad!)), [2, 2], 'the next backward overwrites');
  t.equal(x.grad!.buffer, gradBuffer, 'the gradient buffer is reused');
});

t.test('backward seeds on the device: a leaf scalar gets grad 1, then 2', async (t) => {
  const s = Tensor.fromArray(be, [3], [], { requiresGrad: true });
  s.backward();
  t.same(Array.from(await toF32(s.grad!)), [1]);
  s.backward();
  t.same(Array.from(await toF32(s.grad!)), [2]);
});

t.test('noGrad records nothing', async (t) => {
  const x = Tensor.fromArray(be, [1, 2], [2], { requiresGrad: true });
  const y = noGrad(() => F.scale(x, 2));
  t.equal(y.requiresGrad, false);
  t.equal(y.node, null);
  t.throws(() => F.sum(y).backward(), /does not require grad/);
  const z = F.scale(x, 2);
  t.equal(z.requiresGrad, true, 'recording resumes after noGrad');
  t.throws(() => noGrad(() => Promise.resolve(1)), /synchronous/);
});

t.test('tidy frees what it made except the result and kept tensors; views keep their buffer', async (t) => {
  const before = be.stats().buffers;
  let kept: Tensor | null = null;
  const result = tidy(() => {
    const a = Tensor.fromArray(be, [1, 2, 3, 4], [4]);
    const b = F.scale(a, 2);
    kept = keep(F.scale(a, 3));
    const inner = tidy(() => {
      const c = F.add(b, b);
      F.scale(c, 0); // garbage
      return { c, list: [c] };
    });
    t.equal(inner.c.disposed, false, 'a returned tensor survives the inner scope');
    return F.reshape(inner.c, [2, 2]);
  });
  t.equal(scopeDepth(), 0);
  t.same(result.shape, [2, 2]);
  t.same(Array.from(await toF32(result)), [4, 8, 12, 16], 'the view outlives its disposed base');
  t.same(Array.from(await toF32(kept!)), [3, 6, 9, 12]);
  t.equal(be.stats().buffers, before + 2, 'only the result (c) and the kept tensor remain');
  result.dispose();
  kept!.dispose();
  t.equal(be.stats().buffers, before);
  t.throws(() => tidy(() => { Tensor.zeros(be, [2]); throw new Error('boom'); }), /boom/);
  t.equal(be.stats().buffers, before, 'a throwing scope frees its tensors too');
  t.throws(() => tidy(async () => 1), /Promise/);
});

t.test('reshape is a view and gradients flow through it', async (t) => {
  const x = Tensor.fromArray(be, [1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
  const v = x.reshape([3, -1]);
  t.same(v.shape, [3, 2]);
  t.equal(v.buffer, x.buffer, 'same buffer');
  const w = Tensor.fromArray(be, [1, 2, 3, 4, 5, 6], [3, 2]);
  tidy(() => F.sum(F.mul(F.flatten(F.reshape(v, [6, 1]), 0).reshape([3, 2]), w)).backward());
  t.same(Array.from(await toF32(x.grad!)), [1, 2, 3, 4, 5, 6]);
  t.throws(() => x.reshape([4, 2]), /cannot view/);
  v.write(Float32Array.of(6, 5, 4, 3, 2, 1));
  t.same(Array.from(await toF32(x)), [6, 5, 4, 3, 2, 1], 'writing through a view changes the base');
  t.throws(() => x.write(new Float32Array(2)), /2 values for a tensor of 6/);
});

t.test('errors: non-scalar backward, second backward, disposed intermediates', async (t) => {
  const x = Tensor.fromArray(be, [1, 2], [2], { requiresGrad: true });
  t.throws(() => F.scale(x, 2).backward(), /scalar/);
  const h = F.scale(x, 2);
  const l = F.sum(h);
  l.backward();
  t.throws(() => l.backward(), /already used/);
  const h2 = F.scale(x, 2);
  const l2 = F.sum(F.relu(h2));
  h2.dispose();
  t.throws(() => l2.backward(), /disposed before backward/);
  const a = Tensor.fromArray(be, [1, 2, 3, 4], [2, 2]);
  const wt = Tensor.fromArray(be, [1, 2, 3, 4], [2, 2], { requiresGrad: true });
  const l3 = F.sum(F.matmul(a, wt));
  a.dispose();
  t.throws(() => l3.backward(), /needed by the backward of matmul/);
  t.throws(() => F.add(x, Tensor.zeros(be, [3])), /differ/);
  t.throws(() => Tensor.fromArray(be, [1, 2, 3], [2, 2]), /do not fill/);
});

t.test('a branch that does not reach the loss gets no gradient; frozen parameters get none', async (t) => {
  const x = Tensor.fromArray(be, [1, 2], [2], { requiresGrad: true });
  const frozen = Tensor.fromArray(be, [3, 4], [2], { requiresGrad: true });
  frozen.setRequiresGrad(false);
  tidy(() => {
    F.scale(x, 5); // unused branch
    F.sum(F.mul(x, frozen)).backward();
  });
  t.same(Array.from(await toF32(x.grad!)), [3, 4]);
  t.equal(frozen.grad, null);
});

t.test('conv2dMaxPool is inference only: it refuses inputs that need a gradient, and matches conv2d then maxPool2d', async (t) => {
  const x = Tensor.fromArray(be, Float32Array.from({ length: 2 * 1 * 6 * 6 }, (_, i) => Math.sin(i)), [2, 1, 6, 6]);
  const w = Tensor.fromArray(be, Float32Array.from({ length: 3 * 9 }, (_, i) => Math.cos(i)), [3, 1, 3, 3], { requiresGrad: true });
  const opts = { pad: 1, activation: 'relu' as const, poolKernel: 2 };
  t.throws(() => tidy(() => F.conv2dMaxPool(x, w, null, opts)), /inference only .* noGrad/, 'with recording on and a weight that requires grad');
  const fused = noGrad(() => F.conv2dMaxPool(x, w, null, opts));
  t.same(fused.shape, [2, 3, 3, 3]);
  const plain = noGrad(() => F.maxPool2d(F.conv2d(x, w, null, { pad: 1, activation: 'relu' }), { kernel: 2 }));
  t.same(Array.from(await toF32(fused)), Array.from(await toF32(plain)), 'same values as the two ops');
  t.throws(() => noGrad(() => F.conv2dMaxPool(x, w, null, { ...opts, poolKernel: 7 })), /the 7x7 pool does not fit the 6x6 convolution output/);
  for (const v of [x, w, fused, plain]) v.dispose();
});
