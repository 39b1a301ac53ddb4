// Conformance cases for the fused batch norm (training) → activation → max pool, forward and
// backward (batchNormMaxPoolTrain / batchNormMaxPoolBackward). Shapes with odd planes (floor
// mode), overlapping windows, rows wider than one vector of outputs, and ReLU zeros that tie.
// The backward's x, out, argmax and saved statistics come from ref's own forward on x, as the
// forward pass would leave them.

import { poolOutputSize, type Activation, type BatchNormMaxPoolParams } from '../../src/nn/backend.ts';
import { batchNormMaxPoolTrain } from '../../src/nn/backends/ref/fused.ts';
import { bytes, defineCase, type KernelCase } from './case-kit.ts';
import { bnParams } from './cases-norm-pool.ts';

function label(p: BatchNormMaxPoolParams): string {
  return `n${p.n} c${p.c} ${p.h}x${p.w} k${p.kh}${p.kw !== p.kh ? `x${p.kw}` : ''} s${p.stride}${p.activation === 'relu' ? ' relu' : ''}`;
}

function counts(p: BatchNormMaxPoolParams): { x: number; y: number } {
  const { hOut, wOut } = poolOutputSize(p);
  return { x: p.n * p.c * p.h * p.w, y: p.n * p.c * hOut * wOut };
}

export function batchNormMaxPoolTrainCase(prefix: string, p: BatchNormMaxPoolParams): KernelCase {
  const k = counts(p);
  return defineCase({
    name: `batchNormMaxPoolTrain ${prefix}${label(p)}`,
    kernel: 'batchNormMaxPoolTrain',
    flops: 8 * k.x + k.y * p.kh * p.kw,
    bytes: bytes(k.x, 2 * k.y, 8 * p.c),
    inputs: (rng) => ({
      x: rng.floats(k.x, -2, 3),
      ...bnParams(rng, p.c),
      out: rng.floats(k.y),
      argmax: rng.ints(k.y, 5),
      saveMean: rng.floats(p.c),
      saveInvStd: rng.floats(p.c),
    }),
    outputs: ['out', 'argmax', 'runningMean', 'runningVar', 'saveMean', 'saveInvStd'],
    run: (be, b) => be.batchNormMaxPoolTrain(b.x, b.gamma, b.beta, b.runningMean, b.runningVar, b.out, b.argmax, b.saveMean, b.saveInvStd, p),
  });
}

export function batchNormMaxPoolBackwardCase(prefix: string, p: BatchNormMaxPoolParams, accumulate: boolean): KernelCase {
  const k = counts(p);
  return defineCase({
    name: `batchNormMaxPoolBackward ${prefix}${label(p)}${accumulate ? ' acc' : ''}`,
    kernel: 'batchNormMaxPoolBackward',
    flops: 6 * k.x + 4 * k.y,
    bytes: bytes(2 * k.x, 3 * k.y, 3 * p.c, (accumulate ? 4 : 2) * p.c),
    inputs: (rng) => {
      const x = rng.floats(k.x, -2, 3);
      const params = bnParams(rng, p.c);
      const out = new Float32Array(k.y);
      const argmax = new Int32Array(k.y);
      const saveMean = new Float32Array(p.c);
      const saveInvStd = new Float32Array(p.c);
      batchNormMaxPoolTrain(x, params.gamma, params.beta, params.runningMean.slice(), params.runningVar.slice(), out, argmax,
        saveMean, saveInvStd, p);
      return {
        x, out, argmax, dy: rng.floats(k.y), gamma: params.gamma, saveMean, saveInvStd,
        dx: rng.floats(k.x), dgamma: rng.floats(p.c), dbeta: rng.floats(p.c),
      };
    },
    outputs: ['dx', 'dgamma', 'dbeta'],
    run: (be, b) => be.batchNormMaxPoolBackward(b.x, b.out, b.argmax, b.dy, b.gamma, b.saveMean, b.saveInvStd, b.dx, b.dgamma, b.dbeta, p, accumulate),
  });
}

const fused = (n: number, c: number, h: number, w: number, kernel: number, stride: number, activation: Activation): BatchNormMaxPoolParams =>
  ({ n, c, h, w, kh: kernel, kw: kernel, stride, eps: 1e-5, momentum: 0.1, activation });

export const batchNormMaxPoolShapes: readonly BatchNormMaxPoolParams[] = [
  fused(2, 3, 7, 7, 2, 2, 'relu'), // odd planes: floor mode drops the last row and column
  fused(1, 5, 6, 10, 2, 2, 'none'),
  fused(3, 2, 9, 7, 3, 2, 'relu'), // overlapping windows
  fused(2, 4, 28, 28, 2, 2, 'relu'), // conv1's planes: 14 outputs per row
  fused(2, 3, 5, 41, 2, 2, 'relu'), // 20 outputs per row: more than one AVX-512 vector
  fused(1, 2, 4, 3, 3, 1, 'none'), // a window wider than half the plane
  // more than 4096 values per channel: the backends' float paths (the cpu's window-compare dx)
  fused(8, 3, 29, 27, 2, 2, 'relu'), // odd planes, 13 outputs per row
  fused(9, 2, 24, 22, 2, 2, 'none'),
];

export function fusedCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  batchNormMaxPoolShapes.forEach((p, i) => {
    cases.push(batchNormMaxPoolTrainCase('', p));
    cases.push(batchNormMaxPoolBackwardCase('', p, i % 2 === 1));
  });
  return cases;
}
