// End-to-end gradient checks: small networks built from the tensor layer's ops, on the ref
// backend, their backward() against central finite differences.

import t from 'tap';
import { F, Tensor } from '../../src/nn/index.ts';
import { Rng } from '../../src/nn/random.ts';
import { gradCheck, randn, refBackend } from './helpers.ts';

const be = await refBackend();

t.test('conv → batchnorm(train)+relu → maxpool → dropout2d → linear → cross-entropy', async (t) => {
  const rng = new Rng(11);
  const x = randn(be, [3, 2, 6, 6], rng, { requiresGrad: true });
  const w1 = randn(be, [4, 2, 3, 3], rng, { requiresGrad: true, scale: 0.4 });
  const b1 = randn(be, [4], rng, { requiresGrad: true, scale: 0.1 });
  const gamma = Tensor.fromArray(be, [1.2, 0.8, 1.0, 1.5], [4], { requiresGrad: true });
  const beta = Tensor.fromArray(be, [0.1, -0.2, 0.3, 0.0], [4], { requiresGrad: true });
  const rm = Tensor.zeros(be, [4]);
  const rv = Tensor.full(be, [4], 1);
  const w2 = randn(be, [5, 36], rng, { requiresGrad: true, scale: 0.3 });
  const b2 = randn(be, [5], rng, { requiresGrad: true, scale: 0.1 });
  const labels = Tensor.fromArray(be, Int32Array.of(0, 3, 4), [3]);
  const loss = (): Tensor => {
    let h = F.conv2d(x, w1, b1, { stride: 1, pad: 1 });
    h = F.batchNorm(h, gamma, beta, rm, rv, { training: true, momentum: 0.1, eps: 1e-5, activation: 'relu' });
    h = F.maxPool2d(h, { kernel: 2 });
    h = F.dropout(h, { p: 0.25, seed: 7, step: 3, channelwise: true, training: true });
    return F.softmaxCrossEntropy(F.linear(F.flatten(h), w2, b2), labels, { labelSmoothing: 0.1 });
  };
  const r = await gradCheck([x, w1, b1, gamma, beta, w2, b2], loss);
  t.ok(r.ok, `max error/allowed ${r.maxError.toFixed(3)} over ${r.checked} elements, worst ${JSON.stringify(r.worst)}`);
});

t.test('conv with stride 2 and fused relu, avgpool, global avgpool, linear+relu, dropout', async (t) => {
  const rng = new Rng(12);
  const x = randn(be, [2, 3, 9, 9], rng, { requiresGrad: true });
  const w1 = randn(be, [4, 3, 5, 5], rng, { requiresGrad: true, scale: 0.2 });
  const b1 = randn(be, [4], rng, { requiresGrad: true, scale: 0.1 });
  const w2 = randn(be, [3, 4, 1, 1], rng, { requiresGrad: true, scale: 0.5 });
  const w3 = randn(be, [6, 3], rng, { requiresGrad: true, scale: 0.5 });
  const b3 = randn(be, [6], rng, { requiresGrad: true, scale: 0.5 });
  const r3 = randn(be, [2, 6], rng);
  const loss = (): Tensor => {
    let h = F.conv2d(x, w1, b1, { stride: 2, pad: 2, activation: 'relu' }); // [2,4,5,5]
    h = F.avgPool2d(h, { kernel: 2, stride: 1 }); // [2,4,4,4]
    h = F.conv2d(h, w2, null); // [2,3,4,4]
    h = F.globalAvgPool2d(h); // [2,3,1,1]
    h = F.linear(F.flatten(h), w3, b3, { activation: 'relu' });
    h = F.dropout(h, { p: 0.3, seed: 1, step: 0, training: true });
    return F.sum(F.mul(h, r3));
  };
  const r = await gradCheck([x, w1, b1, w2, w3, b3], loss);
  t.ok(r.ok, `max error/allowed ${r.maxError.toFixed(3)} over ${r.checked} elements, worst ${JSON.stringify(r.worst)}`);
});

t.test('batchnorm1d in training and batchnorm in eval mode (composed backward)', async (t) => {
  const rng = new Rng(13);
  const x = randn(be, [5, 3], rng, { requiresGrad: true });
  const gamma = randn(be, [3], rng, { requiresGrad: true });
  const beta = randn(be, [3], rng, { requiresGrad: true });
  const rm = randn(be, [3], rng);
  const rv = Tensor.fromArray(be, [0.5, 1.5, 2.0], [3]);
  const x2 = randn(be, [2, 3, 2, 2], rng, { requiresGrad: true });
  const r1 = randn(be, [5, 3], rng);
  const r2 = randn(be, [2, 3, 2, 2], rng);
  const rmTrain = Tensor.zeros(be, [3]);
  const rvTrain = Tensor.full(be, [3], 1);
  const loss = (): Tensor => {
    const a = F.batchNorm(x, gamma, beta, rmTrain, rvTrain, { training: true });
    const b = F.batchNorm(x2, gamma, beta, rm, rv, { training: false, activation: 'relu' });
    return F.add(F.sum(F.mul(a, r1)), F.sum(F.mul(b, r2)));
  };
  const r = await gradCheck([x, gamma, beta, x2], loss);
  t.ok(r.ok, `max error/allowed ${r.maxError.toFixed(3)} over ${r.checked} elements, worst ${JSON.stringify(r.worst)}`);
});

t.test('softmax (with temperature), logSoftmax, matmul and the elementwise ops', async (t) => {
  const rng = new Rng(14);
  const a = randn(be, [3, 4], rng, { requiresGrad: true });
  const b = randn(be, [4, 5], rng, { requiresGrad: true });
  const c = randn(be, [3, 5], rng, { requiresGrad: true });
  const r = randn(be, [3, 5], rng);
  const loss = (): Tensor => {
    const m = F.matmul(a, b);
    const s = F.softmax(m, { temperature: 2 });
    const ls = F.logSoftmax(F.sub(m, c));
    const e = F.add(F.scale(F.mul(s, r), 3, 0.5), F.mul(ls, c));
    return F.add(F.mean(e), F.sum(F.mul(F.reshape(c, [15]), F.reshape(c, [15]))));
  };
  const res = await gradCheck([a, b, c], loss);
  t.ok(res.ok, `max error/allowed ${res.maxError.toFixed(3)} over ${res.checked} elements, worst ${JSON.stringify(res.worst)}`);
});

t.test('the check itself catches a wrong backward', async (t) => {
  const { recordOp, needsGrad } = await import('../../src/nn/autograd.ts');
  const rng = new Rng(15);
  const x = randn(be, [6], rng, { requiresGrad: true });
  // y = 2x with a backward that claims dy/dx = 2.2
  const wrongDouble = (v: Tensor): Tensor => {
    const out = Tensor.empty(be, v.shape);
    be.scale(v.buffer as never, 2, 0, out.buffer as never);
    if (needsGrad(v)) recordOp(out, 'wrongDouble', [v], (gy, g) => { const tg = g.target(v)!; be.scale(gy, 2.2, 0, tg.buf); });
    return out;
  };
  const r = await gradCheck([x], () => F.sum(wrongDouble(x)));
  t.notOk(r.ok, 'a 10% gradient error is reported');
});
