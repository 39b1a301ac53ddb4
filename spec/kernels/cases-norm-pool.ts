// Conformance cases for batchnorm (2d and 1d, training, inference, backward) and pooling.

import { poolOutputSize, type Activation, type BatchNormParams, type Pool2dParams } from '../../src/nn/backend.ts';
import { bytes, defineCase, type KernelCase } from './case-kit.ts';
import type { CaseRng } from './rng.ts';

function bnLabel(p: BatchNormParams): string {
  return `${p.spatial === 1 ? '1d' : '2d'} n${p.n} c${p.c} spatial${p.spatial}${p.activation === 'relu' ? ' relu' : ''}`;
}

/** Per-channel parameters in realistic ranges (a positive running variance). */
/** Batch-norm parameters and running statistics in the ranges every batch-norm case uses. */
export function bnParams(rng: CaseRng, c: number) {
  return {
    gamma: rng.floats(c, 0.5, 1.5),
    beta: rng.floats(c, -0.5, 0.5),
    runningMean: rng.floats(c, -0.5, 0.5),
    runningVar: rng.floats(c, 0.5, 2),
  };
}

export function batchNormTrainCase(label: string, p: BatchNormParams): KernelCase {
  const size = p.n * p.c * p.spatial;
  return defineCase({
    name: `batchNormTrain ${label}${bnLabel(p)}`,
    kernel: 'batchNormTrain',
    flops: 8 * size,
    bytes: bytes(size, size, 8 * p.c),
    // Inputs off-centre and scaled, so mean and variance matter.
    inputs: (rng) => ({
      x: rng.floats(size, -2, 3),
      ...bnParams(rng, p.c),
      out: rng.floats(size),
      saveMean: rng.floats(p.c),
      saveInvStd: rng.floats(p.c),
    }),
    outputs: ['out', 'runningMean', 'runningVar', 'saveMean', 'saveInvStd'],
    run: (be, b) => be.batchNormTrain(b.x, b.gamma, b.beta, b.runningMean, b.runningVar, b.out, b.saveMean, b.saveInvStd, p),
  });
}

export function batchNormInferenceCase(label: string, p: BatchNormParams): KernelCase {
  const size = p.n * p.c * p.spatial;
  return defineCase({
    name: `batchNormInference ${label}${bnLabel(p)}`,
    kernel: 'batchNormInference',
    flops: 4 * size,
    bytes: bytes(size, size, 4 * p.c),
    inputs: (rng) => ({ x: rng.floats(size, -2, 3), ...bnParams(rng, p.c), out: rng.floats(size) }),
    outputs: ['out'],
    run: (be, b) => be.batchNormInference(b.x, b.gamma, b.beta, b.runningMean, b.runningVar, b.out, p),
  });
}

export function batchNormBackwardCase(label: string, p: BatchNormParams, accumulate: boolean): KernelCase {
  const size = p.n * p.c * p.spatial;
  return defineCase({
    name: `batchNormBackward ${label}${bnLabel(p)}${accumulate ? ' acc' : ''}`,
    kernel: 'batchNormBackward',
    flops: 10 * size,
    bytes: bytes(3 * size, 3 * p.c, (accumulate ? 4 : 2) * p.c),
    inputs: (rng) => {
      const x = rng.floats(size, -2, 3);
      // Saved statistics consistent with x, as batchNormTrain would leave them.
      const saveMean = new Float32Array(p.c);
      const saveInvStd = new Float32Array(p.c);
      const count = p.n * p.spatial;
      for (let c = 0; c < p.c; c++) {
        let s = 0;
        let sq = 0;
        for (let o = 0; o < p.n; o++) for (let i = 0; i < p.spatial; i++) s += x[(o * p.c + c) * p.spatial + i];
        const mean = s / count;
        for (let o = 0; o < p.n; o++) for (let i = 0; i < p.spatial; i++) sq += (x[(o * p.c + c) * p.spatial + i] - mean) ** 2;
        saveMean[c] = mean;
        saveInvStd[c] = 1 / Math.sqrt(sq / count + p.eps);
      }
      return {
        x, dy: rng.floats(size), gamma: rng.floats(p.c, 0.5, 1.5), saveMean, saveInvStd,
        dx: rng.floats(size), dgamma: rng.floats(p.c), dbeta: rng.floats(p.c),
      };
    },
    outputs: ['dx', 'dgamma', 'dbeta'],
    run: (be, b) => be.batchNormBackward(b.x, b.dy, b.gamma, b.saveMean, b.saveInvStd, b.dx, b.dgamma, b.dbeta, p, accumulate),
  });
}

const bn = (n: number, c: number, spatial: number, activation: Activation = 'none'): BatchNormParams =>
  ({ n, c, spatial, eps: 1e-5, momentum: 0.1, activation });

export const batchNormShapes: readonly BatchNormParams[] = [
  bn(2, 7, 15), // 2d, 3x5 planes, 7 channels
  bn(1, 3, 16, 'relu'), // 2d, batch 1
  bn(5, 7, 1), // 1d
  // (not n = 2 with spatial 1: two values normalise to ±1 whatever x is, so dx ≈ 0 and any
  // float32 rounding is a large relative error: an ill-conditioned case, not a test.)
  bn(3, 3, 1, 'relu'), // 1d, a small batch
  bn(4, 8, 49), // 2d, 7x7 planes
];

export function batchNormCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  batchNormShapes.forEach((p, i) => {
    cases.push(batchNormTrainCase('', p));
    cases.push(batchNormInferenceCase('', p));
    // The backward kernel is specified for activation 'none' (ReLU's backward runs before it).
    cases.push(batchNormBackwardCase('', { ...p, activation: 'none' }, i % 2 === 1));
  });
  return cases;
}

function poolLabel(p: Pool2dParams): string {
  return `n${p.n} c${p.c} ${p.h}x${p.w} k${p.kh}${p.kw !== p.kh ? `x${p.kw}` : ''} s${p.stride}`;
}

function poolCounts(p: Pool2dParams): { x: number; y: number } {
  const { hOut, wOut } = poolOutputSize(p);
  return { x: p.n * p.c * p.h * p.w, y: p.n * p.c * hOut * wOut };
}

/** ties: inputs are small integers, so windows hold equal maxima and the first-on-ties rule shows. */
export function maxPoolCase(label: string, p: Pool2dParams, ties: boolean): KernelCase {
  const c = poolCounts(p);
  return defineCase({
    name: `maxPool2d ${label}${poolLabel(p)}${ties ? ' ties' : ''}`,
    kernel: 'maxPool2d',
    flops: c.y * p.kh * p.kw,
    bytes: bytes(c.x, 2 * c.y),
    inputs: (rng) => ({ x: ties ? rng.quantized(c.x, 3) : rng.floats(c.x), out: rng.floats(c.y), argmax: rng.ints(c.y, 5) }),
    outputs: ['out', 'argmax'],
    run: (be, b) => be.maxPool2d(b.x, b.out, b.argmax, p),
  });
}

/** argmax positions drawn inside each output's own window, as maxPool2d would produce. */
function windowArgmax(rng: CaseRng, p: Pool2dParams): Int32Array {
  const { hOut, wOut } = poolOutputSize(p);
  const a = new Int32Array(p.n * p.c * hOut * wOut);
  for (let nc = 0; nc < p.n * p.c; nc++)
    for (let oh = 0; oh < hOut; oh++)
      for (let ow = 0; ow < wOut; ow++) {
        const ih = oh * p.stride + rng.int(p.kh);
        const iw = ow * p.stride + rng.int(p.kw);
        a[(nc * hOut + oh) * wOut + ow] = ih * p.w + iw;
      }
  return a;
}

export function maxPoolBackwardCase(label: string, p: Pool2dParams): KernelCase {
  const c = poolCounts(p);
  return defineCase({
    name: `maxPool2dBackward ${label}${poolLabel(p)}`,
    kernel: 'maxPool2dBackward',
    flops: c.y,
    bytes: bytes(2 * c.y, c.x),
    inputs: (rng) => ({ dy: rng.floats(c.y), argmax: windowArgmax(rng, p), dx: rng.floats(c.x) }),
    outputs: ['dx'],
    run: (be, b) => be.maxPool2dBackward(b.dy, b.argmax, b.dx, p),
  });
}

export function avgPoolCase(label: string, p: Pool2dParams): KernelCase {
  const c = poolCounts(p);
  return defineCase({
    name: `avgPool2d ${label}${poolLabel(p)}`,
    kernel: 'avgPool2d',
    flops: c.y * p.kh * p.kw,
    bytes: bytes(c.x, c.y),
    inputs: (rng) => ({ x: rng.floats(c.x), out: rng.floats(c.y) }),
    outputs: ['out'],
    run: (be, b) => be.avgPool2d(b.x, b.out, p),
  });
}

export function avgPoolBackwardCase(label: string, p: Pool2dParams): KernelCase {
  const c = poolCounts(p);
  return defineCase({
    name: `avgPool2dBackward ${label}${poolLabel(p)}`,
    kernel: 'avgPool2dBackward',
    flops: c.y * p.kh * p.kw,
    bytes: bytes(c.y, c.x),
    inputs: (rng) => ({ dy: rng.floats(c.y), dx: rng.floats(c.x) }),
    outputs: ['dx'],
    run: (be, b) => be.avgPool2dBackward(b.dy, b.dx, p),
  });
}

const pool = (n: number, c: number, h: number, w: number, k: number, stride: number): Pool2dParams =>
  ({ n, c, h, w, kh: k, kw: k, stride });

export const maxPoolShapes: readonly Pool2dParams[] = [
  pool(2, 3, 7, 7, 2, 2), // odd input: floor mode drops the last row and column
  pool(1, 7, 8, 6, 2, 2),
  pool(2, 3, 7, 7, 3, 2), // overlapping windows
  pool(1, 2, 9, 6, 3, 2),
];

export const avgPoolShapes: readonly Pool2dParams[] = [
  pool(2, 3, 7, 7, 2, 2),
  pool(1, 2, 9, 6, 3, 2),
  { n: 2, c: 7, h: 3, w: 5, kh: 3, kw: 5, stride: 1 }, // global average pool
  { n: 1, c: 4, h: 7, w: 7, kh: 7, kw: 7, stride: 1 },
];

export function poolCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const p of maxPoolShapes) {
    cases.push(maxPoolCase('', p, false));
    cases.push(maxPoolCase('', p, true));
    cases.push(maxPoolBackwardCase('', p));
  }
  for (const p of avgPoolShapes) {
    cases.push(avgPoolCase('', p));
    cases.push(avgPoolBackwardCase('', p));
  }
  return cases;
}
