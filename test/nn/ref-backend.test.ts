// Pins the oracle: hand-computed values for the ref backend's kernels (so ref itself cannot drift),
// its memory behaviour, and the clear errors it gives on bad input.

import t from 'tap';
import type { Backend, DeviceBuffer } from '../../src/nn/backend.ts';
import { createRefBackend } from '../../src/nn/backends/ref/index.ts';

type Asserts = { ok(v: unknown, message: string): boolean };

async function setup(): Promise<{
  be: Backend;
  f32: (values: number[] | number) => DeviceBuffer<'f32'>;
  i32: (values: number[]) => DeviceBuffer<'i32'>;
  read: (buf: DeviceBuffer) => Promise<number[]>;
}> {
  const be = await createRefBackend();
  return {
    be,
    f32: (values) => {
      if (typeof values === 'number') return be.alloc(values, 'f32');
      const buf = be.alloc(values.length, 'f32');
      be.upload(buf, new Float32Array(values));
      return buf;
    },
    i32: (values) => {
      const buf = be.alloc(values.length, 'i32');
      be.upload(buf, new Int32Array(values));
      return buf;
    },
    read: async (buf) => Array.from(await be.download(buf)),
  };
}

function close(t: Asserts, got: number[], want: number[], message: string, tol = 1e-6): void {
  const ok = got.length === want.length && got.every((g, i) => Math.abs(g - want[i]) <= tol * Math.max(1, Math.abs(want[i])));
  t.ok(ok, `${message}: got [${got.join(', ')}], want [${want.join(', ')}]`);
}

t.test('conv2d and its gradients on a 3x3 image', async (t) => {
  const { be, f32, read } = await setup();
  const x = f32([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const p = { n: 1, cIn: 1, h: 3, w: 3, cOut: 1, kh: 2, kw: 2, stride: 1, pad: 0 };
  const w = f32([1, 0, 0, 1]);
  const y = f32(4);
  be.conv2d(x, w, null, y, p);
  close(t, await read(y), [6, 8, 12, 14], 'diagonal 2x2 kernel');
  // pad 1, stride 2, all-ones kernel: each window sees the pixels it overlaps.
  const ones = f32([1, 1, 1, 1]);
  be.conv2d(x, ones, f32([0.5]), y, { ...p, stride: 2, pad: 1 });
  close(t, await read(y), [1.5, 5.5, 11.5, 28.5], 'pad 1 stride 2 with bias');
  const dx = f32(9);
  be.conv2dBackwardInput(f32([1, 1, 1, 1]), w, dx, p);
  close(t, await read(dx), [1, 1, 0, 1, 2, 1, 0, 1, 1], 'backward to input');
  const dw = f32(4);
  const db = f32([10]);
  be.conv2dBackwardWeight(x, f32([1, 1, 1, 1]), dw, db, p, false);
  close(t, await read(dw), [12, 16, 24, 28], 'backward to weight');
  close(t, await read(db), [4], 'backward to bias overwrites');
  be.conv2dBackwardWeight(x, f32([1, 1, 1, 1]), dw, db, p, true);
  close(t, await read(dw), [24, 32, 48, 56], 'weight gradient accumulates');
  close(t, await read(db), [8], 'bias gradient accumulates');
  const relu = f32(4);
  be.conv2d(x, f32([-1, 0, 0, 0]), f32([5.5]), relu, { ...p, activation: 'relu' });
  close(t, await read(relu), [4.5, 3.5, 1.5, 0.5], 'fused relu keeps positives');
  be.conv2d(x, f32([-1, 0, 0, 0]), f32([1.5]), relu, { ...p, activation: 'relu' });
  close(t, await read(relu), [0.5, 0, 0, 0], 'fused relu clamps negatives');
});

t.test('matmul with every transpose, bias, relu and accumulate', async (t) => {
  const { be, f32, read } = await setup();
  const a = f32([1, 2, 3, 4]);
  const b = f32([5, 6, 7, 8]);
  const out = f32(4);
  const base = { m: 2, n: 2, k: 2 };
  be.matmul(a, b, null, out, { ...base, transA: false, transB: false });
  close(t, await read(out), [19, 22, 43, 50], 'A·B');
  be.matmul(a, b, null, out, { ...base, transA: true, transB: false });
  close(t, await read(out), [26, 30, 38, 44], 'Aᵀ·B');
  be.matmul(a, b, null, out, { ...base, transA: false, transB: true });
  close(t, await read(out), [17, 23, 39, 53], 'A·Bᵀ');
  be.matmul(a, b, null, out, { ...base, transA: true, transB: true });
  close(t, await read(out), [23, 31, 34, 46], 'Aᵀ·Bᵀ');
  be.matmul(a, b, f32([1, -100]), out, { ...base, transA: false, transB: false, activation: 'relu' });
  close(t, await read(out), [20, 0, 44, 0], 'bias then relu');
  be.fill(out, 1);
  be.matmul(a, b, null, out, { ...base, transA: false, transB: false, accumulate: true });
  close(t, await read(out), [20, 23, 44, 51], 'accumulate adds');
  // Non-square: [1,3]·[3,2].
  const row = f32(2);
  be.matmul(f32([1, 2, 3]), f32([1, 0, 0, 1, 1, 1]), null, row, { m: 1, n: 2, k: 3, transA: false, transB: false });
  close(t, await read(row), [4, 5], 'a 1x3 by 3x2 product');
});

t.test('softmax, log-softmax and cross-entropy with label smoothing', async (t) => {
  const { be, f32, i32, read } = await setup();
  const out = f32(2);
  be.softmax(f32([0, Math.log(3)]), out, 1, 2);
  close(t, await read(out), [0.25, 0.75], 'softmax');
  be.logSoftmax(f32([0, Math.log(3)]), out, 1, 2);
  close(t, await read(out), [Math.log(0.25), Math.log(0.75)], 'log-softmax');
  be.softmax(f32([1000, 1000]), out, 1, 2);
  close(t, await read(out), [0.5, 0.5], 'softmax of huge logits is stable');
  // Row 0: probs [.25, .5, .25], label 1, s = .3: t = [.1, .8, .1], loss = 1.2·ln 2.
  // Row 1: uniform logits, label 0: loss = ln 3 whatever the smoothing.
  const logits = f32([0, Math.log(2), 0, 0, 0, 0]);
  const labels = i32([1, 0]);
  const probs = f32(6);
  const loss = f32(1);
  const p = { rows: 2, cols: 3, labelSmoothing: 0.3 };
  be.softmaxCrossEntropy(logits, labels, probs, loss, p);
  close(t, await read(loss), [(1.2 * Math.LN2 + Math.log(3)) / 2], 'mean smoothed loss');
  close(t, await read(probs), [0.25, 0.5, 0.25, 1 / 3, 1 / 3, 1 / 3], 'probs');
  const dlogits = f32(6);
  be.softmaxCrossEntropyBackward(probs, labels, f32([2]), dlogits, p);
  // dloss·(p − t)/rows with t row 1 = [.8, .1, .1].
  close(t, await read(dlogits), [0.15, -0.3, 0.15, 1 / 3 - 0.8, 1 / 3 - 0.1, 1 / 3 - 0.1], 'gradient');
  be.softmaxCrossEntropy(logits, labels, probs, loss, { ...p, labelSmoothing: 0 });
  close(t, await read(loss), [(Math.LN2 + Math.log(3)) / 2], 'unsmoothed loss');
});

t.test('batchnorm: batch statistics, unbiased running variance, inference, backward', async (t) => {
  const { be, f32, read } = await setup();
  const p = { n: 4, c: 1, spatial: 1, eps: 0, momentum: 0.1 };
  const rm = f32([0]);
  const rv = f32([1]);
  const out = f32(4);
  const mean = f32(1);
  const invStd = f32(1);
  be.batchNormTrain(f32([1, 2, 3, 4]), f32([2]), f32([1]), rm, rv, out, mean, invStd, p);
  close(t, await read(out), [-1.6832816, 0.1055728, 1.8944272, 3.6832816], 'γ·x̂ + β with the biased variance 1.25');
  close(t, await read(rm), [0.25], 'running mean');
  close(t, await read(rv), [0.9 + 0.1 * (5 / 3)], 'running variance takes the unbiased 5/3');
  close(t, await read(mean), [2.5], 'saved mean');
  close(t, await read(invStd), [1 / Math.sqrt(1.25)], 'saved 1/sqrt(var + eps)');
  be.batchNormInference(f32([1, 2, 3, 4]), f32([1]), f32([0]), f32([1]), f32([3]), out, { ...p, eps: 1 });
  close(t, await read(out), [0, 0.5, 1, 1.5], 'inference uses running statistics');
  be.batchNormInference(f32([1, 2, 3, 4]), f32([1]), f32([0]), f32([2]), f32([3]), out, { ...p, eps: 1, activation: 'relu' });
  close(t, await read(out), [0, 0, 0.5, 1], 'inference with fused relu');
  // Backward with dy = x̂ (so Σdy = 0, Σdy·x̂ = N): dx = γ·invStd/N·(N·x̂ − x̂·N) = 0, dγ = N.
  const xhat = [-1.3416408, -0.4472136, 0.4472136, 1.3416408];
  const dx = f32(4);
  const dgamma = f32([1]);
  const dbeta = f32([1]);
  be.batchNormBackward(f32([1, 2, 3, 4]), f32(xhat), f32([2]), mean, invStd, dx, dgamma, dbeta, p, true);
  close(t, await read(dx), [0, 0, 0, 0], 'dx of dy = x̂ vanishes', 1e-6);
  close(t, await read(dgamma), [5], 'dγ accumulates Σdy·x̂ = 4');
  close(t, await read(dbeta), [1], 'dβ accumulates Σdy = 0');
  // dy = [1, 0, 0, 0]: Σdy = 1, Σdy·x̂ = x̂0; dx_i = γ·invStd/4·(4·δ_i0 − 1 − x̂_i·x̂0).
  be.batchNormBackward(f32([1, 2, 3, 4]), f32([1, 0, 0, 0]), f32([2]), mean, invStd, dx, dgamma, dbeta, p, false);
  const k = (2 / Math.sqrt(1.25)) / 4;
  close(t, await read(dx), xhat.map((xi, i) => k * ((i === 0 ? 4 : 0) - 1 - xi * xhat[0])), 'dx of a unit impulse');
  close(t, await read(dbeta), [1], 'dβ overwrites');
});

t.test('pooling: floor mode, first on ties, overlapping windows', async (t) => {
  const { be, f32, i32, read } = await setup();
  const x = f32([1, 1, 2, 0, 1, 1, 0, 3, 5, 4, 0, 0, 4, 5, 0, 0]);
  const p = { n: 1, c: 1, h: 4, w: 4, kh: 2, kw: 2, stride: 2 };
  const out = f32(4);
  const argmax = i32([0, 0, 0, 0]);
  be.maxPool2d(x, out, argmax, p);
  close(t, await read(out), [1, 3, 5, 0], 'window maxima');
  t.same(await read(argmax), [0, 7, 8, 10], 'argmax within the plane, first on ties');
  const dx = f32(16);
  be.maxPool2dBackward(f32([1, 2, 3, 4]), argmax, dx, p);
  close(t, await read(dx), [1, 0, 0, 0, 0, 0, 0, 2, 3, 0, 4, 0, 0, 0, 0, 0], 'max-pool backward routes to the argmax');
  // 3x3 stride 2 over 3x5: two windows share column 2, where the maximum sits.
  const q = { n: 1, c: 1, h: 3, w: 5, kh: 3, kw: 3, stride: 2 };
  const x2 = f32([0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const out2 = f32(2);
  const arg2 = i32([0, 0]);
  be.maxPool2d(x2, out2, arg2, q);
  t.same(await read(arg2), [2, 2], 'both windows pick the shared maximum');
  const dx2 = f32(15);
  be.maxPool2dBackward(f32([1, 1]), arg2, dx2, q);
  t.equal((await read(dx2))[2], 2, 'overlapping windows add up');
  // Floor mode: a 5x5 input with 2x2 stride 2 gives 2x2 outputs; the last row/column is unused.
  const odd = f32(4);
  be.avgPool2d(f32(Array.from({ length: 25 }, (_, i) => i)), odd, { n: 1, c: 1, h: 5, w: 5, kh: 2, kw: 2, stride: 2 });
  close(t, await read(odd), [3, 5, 13, 15], 'average pooling in floor mode');
  const g = f32(1);
  be.avgPool2d(f32([1, 2, 3, 4, 5, 6]), g, { n: 1, c: 1, h: 2, w: 3, kh: 2, kw: 3, stride: 1 });
  close(t, await read(g), [3.5], 'global average pool');
  const gdx = f32(6);
  be.avgPool2dBackward(f32([6]), gdx, { n: 1, c: 1, h: 2, w: 3, kh: 2, kw: 3, stride: 1 });
  close(t, await read(gdx), [1, 1, 1, 1, 1, 1], 'global average pool backward spreads dy');
});

t.test('dropout masks follow the dropout-rng test vectors', async (t) => {
  const { be, f32, read } = await setup();
  // dropoutKey(1234, 7): u(0) = 0.2212, u(2) = 0.3574 (test/nn/dropout-rng.test.ts).
  const x = f32([1, 1, 1, 1, 1, 1, 1, 1, 1]);
  const out = f32(9);
  be.dropout(x, out, { p: 0.3, seed: 1234, step: 7, spatial: 1 });
  const y = await read(out);
  t.equal(y[0], 0, 'element 0 (u = 0.221 < 0.3) is dropped');
  close(t, [y[2]], [1 / 0.7], 'element 2 (u = 0.357) is kept and scaled by 1/(1 − p)');
  be.dropout(x, out, { p: 0.3, seed: 1234, step: 7, spatial: 3 });
  const z = await read(out);
  t.same(z.slice(0, 3), [0, 0, 0], 'dropout2d drops channel 0 as a whole');
  close(t, z.slice(6, 9), [1 / 0.7, 1 / 0.7, 1 / 0.7], 'dropout2d keeps channel 2 as a whole');
  const dx = f32(9);
  be.dropoutBackward(f32([2, 2, 2, 2, 2, 2, 2, 2, 2]), dx, { p: 0.3, seed: 1234, step: 7, spatial: 3 });
  close(t, await read(dx), z.map((v) => 2 * v), 'backward redraws the same mask');
  be.dropout(x, out, { p: 0, seed: 1, step: 1, spatial: 1 });
  close(t, await read(out), [1, 1, 1, 1, 1, 1, 1, 1, 1], 'p = 0 keeps everything');
  be.dropout(x, out, { p: 1, seed: 1, step: 1, spatial: 1 });
  close(t, await read(out), [0, 0, 0, 0, 0, 0, 0, 0, 0], 'p = 1 drops everything');
});

t.test('SGD, Adam and AdamW steps', async (t) => {
  const { be, f32, read } = await setup();
  const sgd = { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 };
  const p1 = f32([1]);
  be.sgdStep(p1, f32([0.5]), null, sgd);
  close(t, await read(p1), [0.95], 'plain SGD');
  const p2 = f32([1]);
  const v2 = f32([0]);
  be.sgdStep(p2, f32([0.5]), v2, { ...sgd, momentum: 0.9, nesterov: true, weightDecay: 0.1 });
  // g = 0.5 + 0.1·1 = 0.6; v = 0.6; nesterov g = 0.6 + 0.9·0.6 = 1.14.
  close(t, await read(p2), [0.886], 'Nesterov with weight decay');
  close(t, await read(v2), [0.6], 'velocity');
  const p3 = f32([1]);
  const v3 = f32([0.6]);
  be.sgdStep(p3, f32([0.5]), v3, { ...sgd, momentum: 0.9, dampening: 0.5 });
  close(t, await read(v3), [0.79], 'v = μ·v + (1 − dampening)·g');
  close(t, await read(p3), [0.921], 'p −= lr·v');

  const adam = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 };
  const p4 = f32([1]);
  const m4 = f32([0]);
  const s4 = f32([0]);
  be.adamStep(p4, f32([0.5]), m4, s4, adam);
  close(t, await read(p4), [0.99], 'Adam step 1 moves by lr·sign(g)');
  close(t, await read(m4), [0.05], 'first moment');
  close(t, await read(s4), [0.00025], 'second moment');
  be.adamStep(p4, f32([0.5]), m4, s4, { ...adam, step: 2 });
  close(t, await read(p4), [0.98], 'step 2: bias correction keeps the step at lr');
  close(t, await read(m4), [0.095], 'first moment, step 2');
  const p5 = f32([1]);
  const m5 = f32([0]);
  be.adamStep(p5, f32([0.5]), m5, f32([0]), { ...adam, weightDecay: 0.1 });
  close(t, await read(m5), [0.06], 'Adam adds wd·p to the gradient');
  const p6 = f32([1]);
  const m6 = f32([0]);
  be.adamStep(p6, f32([0.5]), m6, f32([0]), { ...adam, weightDecay: 0.1, decoupled: true });
  close(t, await read(p6), [0.989], 'AdamW decays the weight first: 1 − 0.01·0.1, then − 0.01');
  close(t, await read(m6), [0.05], 'AdamW leaves the gradient alone');
});

t.test('elementwise ops, reductions, argmax and countEqual', async (t) => {
  const { be, f32, i32, read } = await setup();
  const x = f32([-2, 0.5, 4]);
  const out = f32(3);
  const expect: Record<string, number[]> = {
    neg: [2, -0.5, -4], exp: [Math.exp(-2), Math.exp(0.5), Math.exp(4)], abs: [2, 0.5, 4], relu: [0, 0.5, 4],
  };
  for (const [op, want] of Object.entries(expect)) {
    be.unary(op as 'neg', x, out);
    close(t, await read(out), want, op);
  }
  be.unary('sqrt', f32([4, 9, 0.25]), out);
  close(t, await read(out), [2, 3, 0.5], 'sqrt');
  be.unary('log', f32([1, Math.E, 0.5]), out);
  close(t, await read(out), [0, 1, Math.log(0.5)], 'log');
  const y = f32([1, 2, -8]);
  const binary: Record<string, number[]> = { add: [-1, 2.5, -4], sub: [-3, -1.5, 12], mul: [-2, 1, -32], div: [-2, 0.25, -0.5], max: [1, 2, 4] };
  for (const [op, want] of Object.entries(binary)) {
    be.binary(op as 'add', x, y, out);
    close(t, await read(out), want, op);
  }
  be.scale(x, 2, 1, out);
  close(t, await read(out), [-3, 2, 9], 'scale');
  be.axpy(2, x, out);
  close(t, await read(out), [-7, 3, 17], 'axpy');
  be.reluBackward(x, f32([5, 6, 7]), out, false);
  close(t, await read(out), [0, 6, 7], 'reluBackward');
  be.reluBackward(x, f32([5, 6, 7]), out, true);
  close(t, await read(out), [0, 12, 14], 'reluBackward accumulates');
  const cs = f32(2);
  // x[o, c, i] for outer 2, channels 2, inner 3 = 0..11: channel 0 sums 0+1+2+6+7+8.
  be.channelSum(f32(Array.from({ length: 12 }, (_, i) => i)), cs, { outer: 2, channels: 2, inner: 3 });
  close(t, await read(cs), [24, 42], 'channelSum');
  const am = i32([9, 9]);
  be.argmax(f32([3, 1, 3, -1, -1, -2]), am, 2, 3);
  t.same(await read(am), [0, 0], 'argmax takes the first maximum');
  const count = f32([2]);
  be.countEqual(i32([1, 2, 3, 4]), i32([1, 0, 3, 4]), count, true);
  t.same(await read(count), [5], 'countEqual accumulates 3 matches');
  const dst = f32([0, 0, 0, 0, 0]);
  be.copy(f32([1, 2, 3, 4]), dst, 2, 1, 3);
  t.same(await read(dst), [0, 0, 0, 2, 3], 'copy with offsets');
});

t.test('memory: stats, copies on download, free and dispose', async (t) => {
  const { be, f32, read } = await setup();
  t.same(be.stats(), { buffers: 0, bytes: 0 });
  const a = f32([1, 2, 3]);
  const b = be.alloc(5, 'i32');
  t.same(be.stats(), { buffers: 2, bytes: 32 });
  const copy = await be.download(a);
  copy[0] = 100;
  t.same(await read(a), [1, 2, 3], 'download returns a copy');
  be.free(a);
  t.same(be.stats(), { buffers: 1, bytes: 20 });
  t.throws(() => be.free(a), /used after free/, 'double free');
  t.throws(() => be.fill(a, 0), /used after free/);
  const other = await createRefBackend();
  t.throws(() => other.fill(b, 0), /not a buffer of this ref backend/);
  be.dispose();
  t.throws(() => be.alloc(3), /disposed/);
});

t.test('bad input throws errors that name the buffer and the fix', async (t) => {
  const { be, f32, i32 } = await setup();
  const p = { n: 1, cIn: 1, h: 3, w: 3, cOut: 1, kh: 2, kw: 2, stride: 1, pad: 0 };
  t.throws(() => be.conv2d(f32(9), f32(4), null, f32(3), p), /conv2d: buffer out has 3 elements but .* needs 4; allocate at least 4/);
  t.throws(() => be.conv2d(f32(8), f32(4), null, f32(4), p), /conv2d: buffer x has 8 elements/);
  t.throws(() => be.conv2d(f32(9), f32(4), null, f32(4), { ...p, kh: 5, kw: 5 }), /does not fit/);
  t.throws(() => be.conv2d(f32(9), f32(4), null, f32(4), { ...p, stride: 0 }), /stride must be a positive integer/);
  t.throws(() => be.matmul(f32(5), f32(6), null, f32(6), { m: 2, n: 2, k: 3, transA: false, transB: false }), /matmul: buffer a has 5/);
  t.throws(() => be.matmul(f32(6), f32(6), f32(1), f32(4), { m: 2, n: 2, k: 3, transA: false, transB: false }), /buffer bias has 1/);
  t.throws(() => be.unary('neg', f32(3), f32(4)), /x has 3 elements but out has 4/);
  t.throws(() => be.unary('nope' as 'neg', f32(3), f32(3)), /unknown op "nope"/);
  t.throws(() => be.argmax(f32(6), f32(2) as unknown as DeviceBuffer<'i32'>, 2, 3), /out must be i32/);
  t.throws(
    () => be.batchNormTrain(f32(3), f32(3), f32(3), f32(3), f32(3), f32(3), f32(3), f32(3), { n: 1, c: 3, spatial: 1, eps: 1e-5, momentum: 0.1 }),
    /more than 1 value per channel/,
  );
  t.throws(() => be.softmaxCrossEntropy(f32(6), i32([0, 3]), f32(6), f32(1), { rows: 2, cols: 3, labelSmoothing: 0 }), /label 3 in row 1 is outside \[0, 3\)/);
  t.throws(() => be.dropout(f32(4), f32(4), { p: 1.5, seed: 0, step: 0, spatial: 1 }), /p must be in \[0, 1\]/);
  t.throws(() => be.dropout(f32(5), f32(5), { p: 0.5, seed: 0, step: 0, spatial: 2 }), /not a multiple of spatial 2/);
  t.throws(() => be.sgdStep(f32(2), f32(2), null, { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 }), /needs a velocity buffer/);
  t.throws(() => be.adamStep(f32(2), f32(2), f32(2), f32(2), { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 0 }), /step/);
  t.throws(() => be.maxPool2d(f32(16), f32(4), i32([0, 0, 0]), { n: 1, c: 1, h: 4, w: 4, kh: 2, kw: 2, stride: 2 }), /buffer argmax has 3/);
  t.throws(() => be.copy(f32(4), f32(4), 3, 2, 0), /src range \[2, 5\) exceeds/);
  t.throws(() => be.copy(f32(4), i32([1, 2, 3, 4]), 2), /src is f32 but dst is i32/);
  t.throws(() => be.upload(f32(2), new Float32Array(3)), /destination range \[0, 3\) exceeds/);
  t.throws(() => be.upload(f32(2), new Int32Array(2) as unknown as Float32Array), /takes a Float32Array/);
  t.throws(() => be.fill(i32([1]), 0.5), /not a valid i32 value/);
});
