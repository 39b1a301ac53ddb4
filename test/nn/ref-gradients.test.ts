// Every backward kernel of ref checked against central finite differences of its forward kernel,
// in float64 (the ref kernels are generic over Float32Array | Float64Array). For an upstream
// gradient r drawn at random, L(θ) = Σ r · forward(θ); the analytic gradient from the backward
// kernel must match (L(θ + h) − L(θ − h)) / 2h for every element of every input.

import t from 'tap';
import type { Activation, BatchNormMaxPoolParams, BatchNormParams, Conv2dParams, CrossEntropyParams, DropoutParams, MatmulParams, Pool2dParams } from '../../src/nn/backend.ts';
import { convOutputSize, poolOutputSize } from '../../src/nn/backend.ts';
import { refKernels as K } from '../../src/nn/backends/ref/index.ts';
import { CaseRng } from '../../spec/kernels/rng.ts';

const H = 1e-6;
const TOLERANCE = 1e-6;

type Asserts = { ok(v: unknown, message: string): boolean };

function randoms(rng: CaseRng, n: number, lo = -1, hi = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Central differences of loss() with respect to every element of x (x is perturbed in place). */
function numericGrad(x: Float64Array, loss: () => number): Float64Array {
  const g = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const old = x[j];
    x[j] = old + H;
    const plus = loss();
    x[j] = old - H;
    const minus = loss();
    x[j] = old;
    g[j] = (plus - minus) / (2 * H);
  }
  return g;
}

/** max |analytic − numeric| / max(1, max |numeric|) within TOLERANCE. */
function checkGrad(t: Asserts, analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string): void {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < numeric.length; i++) {
    diff = Math.max(diff, Math.abs(analytic[i] - numeric[i]));
    scale = Math.max(scale, Math.abs(numeric[i]));
  }
  const err = analytic.length === numeric.length ? diff / scale : Infinity;
  t.ok(err < TOLERANCE, `${what}: relative error ${err.toExponential(2)}`);
}

/** The backward kernel with accumulate = true must add its result to what the buffer held. */
function checkAccumulates(t: Asserts, run: (out: Float64Array, accumulate: boolean) => void, length: number, what: string): void {
  const fresh = new Float64Array(length);
  run(fresh, false);
  const prior = randoms(new CaseRng(length), length);
  const acc = prior.slice();
  run(acc, true);
  checkGrad(t, acc, prior.map((v, i) => v + fresh[i]), `${what} accumulates`);
}

t.test('conv2d backward to input, weight and bias (stride 1 and 2, pad 0..2, kernels 1..5)', async (t) => {
  const shapes: [number, number, number][] = [
    [3, 1, 0], [3, 1, 1], [3, 2, 1], [3, 2, 2], [2, 2, 0], [5, 1, 2], [1, 2, 0], [4, 1, 1], [5, 2, 1],
  ];
  for (const [k, stride, pad] of shapes) {
    const rng = new CaseRng(k * 100 + stride * 10 + pad);
    const p: Conv2dParams = { n: 2, cIn: 2, h: 5, w: 6, cOut: 3, kh: k, kw: k, stride, pad };
    const { hOut, wOut } = convOutputSize(p);
    const x = randoms(rng, p.n * p.cIn * p.h * p.w);
    const w = randoms(rng, p.cOut * p.cIn * k * k);
    const b = randoms(rng, p.cOut);
    const r = randoms(rng, p.n * p.cOut * hOut * wOut);
    const y = new Float64Array(r.length);
    const loss = (): number => {
      K.conv2d(x, w, b, y, p);
      return dot(r, y);
    };
    const label = `k${k} s${stride} p${pad}`;
    const dx = new Float64Array(x.length);
    K.conv2dBackwardInput(r, w, dx, p, false);
    checkGrad(t, dx, numericGrad(x, loss), `${label} dx`);
    const dw = new Float64Array(w.length);
    const db = new Float64Array(b.length);
    K.conv2dBackwardWeight(x, r, dw, db, p, false);
    checkGrad(t, dw, numericGrad(w, loss), `${label} dw`);
    checkGrad(t, db, numericGrad(b, loss), `${label} db`);
    checkAccumulates(t, (out, acc) => K.conv2dBackwardInput(r, w, out, p, acc), x.length, `${label} dx`);
    checkAccumulates(t, (out, acc) => K.conv2dBackwardWeight(x, r, out, null, p, acc), w.length, `${label} dw`);
  }
});

t.test('matmul gradients through transposed matmuls, for every transpose, with bias and relu', async (t) => {
  const m = 3;
  const n = 4;
  const k = 5;
  for (const transA of [false, true])
    for (const transB of [false, true])
      for (const activation of ['none', 'relu'] as Activation[]) {
        const rng = new CaseRng((transA ? 2 : 0) + (transB ? 1 : 0) + (activation === 'relu' ? 4 : 0));
        const a = randoms(rng, m * k);
        const b = randoms(rng, k * n);
        const bias = randoms(rng, n);
        const r = randoms(rng, m * n);
        const c = new Float64Array(m * n);
        const p: MatmulParams = { m, n, k, transA, transB, activation };
        const loss = (): number => {
          K.matmul(a, b, bias, c, p);
          return dot(r, c);
        };
        loss();
        // Through the fused relu first: dPre = relu'(C) · r (C is the relu's output: same mask).
        const dc = new Float64Array(m * n);
        K.reluBackward(activation === 'relu' ? c : new Float64Array(m * n).fill(1), r, dc, false);
        // d op(A) = dC · op(B)ᵀ and d op(B) = op(A)ᵀ · dC, written back in each operand's storage layout.
        const da = new Float64Array(a.length);
        if (!transA) K.matmul(dc, b, null, da, { m, n: k, k: n, transA: false, transB: !transB });
        else K.matmul(b, dc, null, da, { m: k, n: m, k: n, transA: transB, transB: true });
        const db = new Float64Array(b.length);
        if (!transB) K.matmul(a, dc, null, db, { m: k, n, k: m, transA: !transA, transB: false });
        else K.matmul(dc, a, null, db, { m: n, n: k, k: m, transA: true, transB: transA });
        const dbias = new Float64Array(n);
        K.channelSum(dc, dbias, { outer: m, channels: n, inner: 1 }, false);
        const label = `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'} ${activation}`;
        checkGrad(t, da, numericGrad(a, loss), `${label} dA`);
        checkGrad(t, db, numericGrad(b, loss), `${label} dB`);
        checkGrad(t, dbias, numericGrad(bias, loss), `${label} dbias`);
      }
});

t.test('batchnorm 2d and 1d backward (training mode)', async (t) => {
  const shapes: BatchNormParams[] = [
    { n: 2, c: 3, spatial: 6, eps: 1e-5, momentum: 0.1 },
    { n: 5, c: 4, spatial: 1, eps: 1e-5, momentum: 0.1 },
    { n: 1, c: 2, spatial: 9, eps: 1e-3, momentum: 0.1 },
  ];
  for (const p of shapes) {
    const rng = new CaseRng(p.n * 31 + p.c * 7 + p.spatial);
    const size = p.n * p.c * p.spatial;
    const x = randoms(rng, size, -2, 3);
    const gamma = randoms(rng, p.c, 0.5, 1.5);
    const beta = randoms(rng, p.c);
    const r = randoms(rng, size);
    const y = new Float64Array(size);
    const mean = new Float64Array(p.c);
    const invStd = new Float64Array(p.c);
    const forward = (): number => {
      // Fresh running statistics each time: they are outputs, not inputs, of the loss.
      K.batchNormTrain(x, gamma, beta, new Float64Array(p.c), new Float64Array(p.c).fill(1), y, mean, invStd, p);
      return dot(r, y);
    };
    forward();
    const dx = new Float64Array(size);
    const dgamma = new Float64Array(p.c);
    const dbeta = new Float64Array(p.c);
    K.batchNormBackward(x, r, gamma, mean, invStd, dx, dgamma, dbeta, p, false);
    const label = `${p.spatial === 1 ? '1d' : '2d'} n${p.n} c${p.c} spatial${p.spatial}`;
    checkGrad(t, dx, numericGrad(x, forward), `${label} dx`);
    checkGrad(t, dgamma, numericGrad(gamma, forward), `${label} dγ`);
    checkGrad(t, dbeta, numericGrad(beta, forward), `${label} dβ`);
    checkAccumulates(t, (out, acc) => K.batchNormBackward(x, r, gamma, mean, invStd, dx, out, dbeta, p, acc), p.c, `${label} dγ`);
  }
});

t.test('max and average pooling backward', async (t) => {
  const shapes: Pool2dParams[] = [
    { n: 2, c: 2, h: 5, w: 5, kh: 2, kw: 2, stride: 2 },
    { n: 1, c: 3, h: 7, w: 6, kh: 3, kw: 3, stride: 2 },
    { n: 2, c: 2, h: 3, w: 5, kh: 3, kw: 5, stride: 1 },
  ];
  for (const p of shapes) {
    const rng = new CaseRng(p.h * 10 + p.kh);
    const size = p.n * p.c * p.h * p.w;
    const { hOut, wOut } = poolOutputSize(p);
    const outSize = p.n * p.c * hOut * wOut;
    // Distinct values 0.01 apart, so a perturbation of 1e-6 never changes which element is the max.
    const order = Array.from({ length: size }, (_, i) => i).sort(() => rng.next() - 0.5);
    const x = Float64Array.from(order, (v) => v * 0.01);
    const r = randoms(rng, outSize);
    const y = new Float64Array(outSize);
    const argmax = new Int32Array(outSize);
    const label = `${p.h}x${p.w} k${p.kh}x${p.kw} s${p.stride}`;
    const maxLoss = (): number => {
      K.maxPool2d(x, y, argmax, p);
      return dot(r, y);
    };
    maxLoss();
    const dx = new Float64Array(size);
    K.maxPool2dBackward(r, argmax, dx, p);
    checkGrad(t, dx, numericGrad(x, maxLoss), `max ${label}`);
    const avgLoss = (): number => {
      K.avgPool2d(x, y, p);
      return dot(r, y);
    };
    K.avgPool2dBackward(r, dx, p);
    checkGrad(t, dx, numericGrad(x, avgLoss), `avg ${label}`);
  }
});

t.test('dropout and dropout2d backward', async (t) => {
  const cases: [number, DropoutParams][] = [
    [40, { p: 0.3, seed: 7, step: 2, spatial: 1 }],
    [2 * 3 * 6, { p: 0.5, seed: 11, step: 5, spatial: 6 }],
  ];
  for (const [length, p] of cases) {
    const rng = new CaseRng(length);
    const x = randoms(rng, length);
    const r = randoms(rng, length);
    const y = new Float64Array(length);
    const loss = (): number => {
      K.dropout(x, y, p);
      return dot(r, y);
    };
    const dx = new Float64Array(length);
    K.dropoutBackward(r, dx, p, false);
    const label = p.spatial === 1 ? 'dropout' : 'dropout2d';
    checkGrad(t, dx, numericGrad(x, loss), label);
    t.ok(dx.some((v) => v === 0) && dx.some((v) => v !== 0), `${label}: the mask drops some and keeps some`);
    checkAccumulates(t, (out, acc) => K.dropoutBackward(r, out, p, acc), length, label);
  }
});

t.test('softmax cross-entropy backward, with and without label smoothing', async (t) => {
  for (const labelSmoothing of [0, 0.1, 0.3]) {
    const p: CrossEntropyParams = { rows: 4, cols: 5, labelSmoothing };
    const rng = new CaseRng(17 + labelSmoothing * 100);
    const logits = randoms(rng, p.rows * p.cols, -3, 3);
    const labels = Int32Array.from({ length: p.rows }, () => rng.int(p.cols));
    const probs = new Float64Array(p.rows * p.cols);
    const lossOut = new Float64Array(1);
    const dloss = 1.7;
    const loss = (): number => {
      K.softmaxCrossEntropy(logits, labels, probs, lossOut, p);
      return dloss * lossOut[0];
    };
    loss();
    const dlogits = new Float64Array(p.rows * p.cols);
    K.softmaxCrossEntropyBackward(probs, labels, new Float64Array([dloss]), dlogits, p, false);
    checkGrad(t, dlogits, numericGrad(logits, loss), `smoothing ${labelSmoothing}`);
    checkAccumulates(
      t, (out, acc) => K.softmaxCrossEntropyBackward(probs, labels, new Float64Array([dloss]), out, p, acc), dlogits.length,
      `smoothing ${labelSmoothing}`,
    );
  }
});

t.test('relu backward', async (t) => {
  const rng = new CaseRng(5);
  // Away from the kink at 0, where the derivative is not defined.
  const x = randoms(rng, 50).map((v) => (v < 0 ? v - 0.1 : v + 0.1));
  const r = randoms(rng, 50);
  const y = new Float64Array(50);
  const loss = (): number => {
    K.unary('relu', x, y);
    return dot(r, y);
  };
  const dx = new Float64Array(50);
  K.reluBackward(x, r, dx, false);
  checkGrad(t, dx, numericGrad(x, loss), 'relu');
  checkAccumulates(t, (out, acc) => K.reluBackward(x, r, out, acc), 50, 'relu');
});

t.test('fused batch norm → activation → max pool backward (2x2 and overlapping 3x3 windows, ReLU and none)', async (t) => {
  const shapes: BatchNormMaxPoolParams[] = [
    { n: 2, c: 2, h: 5, w: 5, kh: 2, kw: 2, stride: 2, eps: 1e-5, momentum: 0.1, activation: 'relu' },
    { n: 1, c: 3, h: 7, w: 6, kh: 3, kw: 3, stride: 2, eps: 1e-5, momentum: 0.1, activation: 'none' },
    { n: 3, c: 2, h: 4, w: 6, kh: 2, kw: 2, stride: 2, eps: 1e-5, momentum: 0.1, activation: 'relu' },
  ];
  for (const p of shapes) {
    const rng = new CaseRng(p.n * 100 + p.h * 10 + p.kh);
    const size = p.n * p.c * p.h * p.w;
    const { hOut, wOut } = poolOutputSize(p);
    const outSize = p.n * p.c * hOut * wOut;
    // Distinct values 0.05 apart (a perturbation of 1e-6 never changes a window's max), shifted so
    // that no normalised value sits near ReLU's kink at 0.
    const order = Array.from({ length: size }, (_, i) => i).sort(() => rng.next() - 0.5);
    const x = Float64Array.from(order, (v) => v * 0.05 + 0.025);
    const gamma = randoms(rng, p.c, 0.5, 1.5);
    const beta = new Float64Array(p.c);
    const r = randoms(rng, outSize);
    const y = new Float64Array(outSize);
    const argmax = new Int32Array(outSize);
    const mean = new Float64Array(p.c);
    const invStd = new Float64Array(p.c);
    const forward = (): number => {
      K.batchNormMaxPoolTrain(x, gamma, beta, new Float64Array(p.c), new Float64Array(p.c).fill(1), y, argmax, mean, invStd, p);
      return dot(r, y);
    };
    forward();
    const dx = new Float64Array(size);
    const dgamma = new Float64Array(p.c);
    const dbeta = new Float64Array(p.c);
    K.batchNormMaxPoolBackward(x, y, argmax, r, gamma, mean, invStd, dx, dgamma, dbeta, p, false);
    const label = `${p.h}x${p.w} k${p.kh} s${p.stride} ${p.activation}`;
    if (p.activation === 'relu') t.ok(y.some((v) => v === 0), `${label}: some windows are clamped by the ReLU`);
    checkGrad(t, dx, numericGrad(x, forward), `${label} dx`);
    checkGrad(t, dgamma, numericGrad(gamma, forward), `${label} dγ`);
    checkGrad(t, dbeta, numericGrad(beta, forward), `${label} dβ`);
    checkAccumulates(t, (out, acc) => K.batchNormMaxPoolBackward(x, y, argmax, r, gamma, mean, invStd, dx, dgamma, out, p, acc), p.c, `${label} dβ`);
  }
});
