// Conformance cases for the fused batch norm (training) → activation → max pool, forward and
// backward (batchNormMaxPoolTrain / batchNormMaxPoolBackward), and for the same with the
// convolution before it (convBatchNormMaxPoolTrain / convBatchNormMaxPoolBackward). Shapes with odd
// planes (floor mode), overlapping windows, rows wider than one vector of outputs, and ReLU zeros
// that tie. The backward's inputs (x, out, argmax and the saved statistics) come from ref's own
// forward, as the forward pass would leave them.

import {
  poolOutputSize, splitConvBatchNormMaxPool, type Activation, type BatchNormMaxPoolParams, type ConvBatchNormMaxPoolParams,
} from '../../src/nn/backend.ts';
import { conv2d, conv2dBackwardWeight } from '../../src/nn/backends/ref/conv.ts';
import { batchNormMaxPoolBackward, batchNormMaxPoolTrain } from '../../src/nn/backends/ref/fused.ts';
import { bytes, defineCase, type KernelCase } from './case-kit.ts';
import { GEMM_COMPARISON } from './cases-dense.ts';
import { bnParams } from './cases-norm-pool.ts';
import type { CaseRng } from './rng.ts';

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

// ---- convolution → batch norm → activation → max pool ----
//
// x, w and the bias lie on a grid of 1/64: every product is a multiple of 2^-12 and every sum of the
// convolution fits float32's mantissa, so y is exact on every backend, in any summation order, and
// with TF32 operands too (10 mantissa bits hold them). Its max pool's argmax is then comparable
// exactly, ties included (the grid makes some), instead of flipping on rounding noise between
// near-equal outputs. γ alternates in sign: where γ < 0 the pooled max is the smallest y.

function onGrid(a: Float32Array): Float32Array {
  return a.map((v) => Math.round(v * 64) / 64);
}

/** zeroGamma: channel 0's γ is 0 (its normalised value cannot be recovered from out: the cpu
 *  backward then recomputes the convolution instead). */
function convBnParams(rng: CaseRng, p: ConvBatchNormMaxPoolParams, withBias: boolean, zeroGamma = false) {
  const params = bnParams(rng, p.cOut);
  if (zeroGamma) params.gamma[0] = 0;
  return {
    x: onGrid(rng.floats(p.n * p.cIn * p.h * p.w, -2, 3)),
    w: onGrid(rng.floats(p.cOut * p.cIn * p.kh * p.kw)),
    bias: onGrid(rng.floats(withBias ? p.cOut : 0)),
    ...params,
    gamma: params.gamma.map((g, i) => (i % 2 === 1 ? -g : g)),
  };
}

function convLabel(p: ConvBatchNormMaxPoolParams, withBias: boolean): string {
  return `n${p.n} c${p.cIn}>${p.cOut} ${p.h}x${p.w} k${p.kh}${p.kw !== p.kh ? `x${p.kw}` : ''} s${p.stride} p${p.pad} ` +
    `pool${p.poolKh}${p.poolKw !== p.poolKh ? `x${p.poolKw}` : ''} s${p.poolStride}${withBias ? ' bias' : ''}${p.activation === 'relu' ? ' relu' : ''}`;
}

function convCounts(p: ConvBatchNormMaxPoolParams): { x: number; w: number; y: number; out: number; c: number; macs: number } {
  const { conv, bnPool } = splitConvBatchNormMaxPool(p);
  const y = bnPool.n * bnPool.c * bnPool.h * bnPool.w;
  const { hOut, wOut } = poolOutputSize(bnPool);
  return {
    x: p.n * p.cIn * p.h * p.w, w: p.cOut * p.cIn * p.kh * p.kw, y, out: p.n * p.cOut * hOut * wOut, c: p.cOut,
    macs: y * conv.cIn * conv.kh * conv.kw,
  };
}

export function convBatchNormMaxPoolTrainCase(p: ConvBatchNormMaxPoolParams, withBias: boolean, zeroGamma = false): KernelCase {
  const k = convCounts(p);
  return defineCase({
    name: `convBatchNormMaxPoolTrain ${convLabel(p, withBias)}${zeroGamma ? ' γ0' : ''}`,
    kernel: 'convBatchNormMaxPoolTrain',
    flops: 2 * k.macs + 8 * k.y + k.out * p.poolKh * p.poolKw,
    bytes: bytes(k.x, k.w, withBias ? k.c : 0, 2 * k.out, 8 * k.c),
    inputs: (rng) => ({
      ...convBnParams(rng, p, withBias, zeroGamma),
      out: rng.floats(k.out),
      argmax: rng.ints(k.out, 5),
      saveMean: rng.floats(k.c),
      saveInvStd: rng.floats(k.c),
    }),
    outputs: ['out', 'argmax', 'runningMean', 'runningVar', 'saveMean', 'saveInvStd'],
    run: (be, b) => be.convBatchNormMaxPoolTrain(b.x, b.w, withBias ? b.bias : null, b.gamma, b.beta, b.runningMean, b.runningVar,
      b.out, b.argmax, b.saveMean, b.saveInvStd, p),
  });
}

export function convBatchNormMaxPoolBackwardCase(
  p: ConvBatchNormMaxPoolParams, withBias: boolean, accumulate: boolean, zeroGamma = false,
): KernelCase {
  const k = convCounts(p);
  const { conv, bnPool } = splitConvBatchNormMaxPool(p);
  return defineCase({
    name: `convBatchNormMaxPoolBackward ${convLabel(p, withBias)}${accumulate ? ' acc' : ''}${zeroGamma ? ' γ0' : ''}`,
    kernel: 'convBatchNormMaxPoolBackward',
    flops: 4 * k.macs + 6 * k.y + 4 * k.out,
    bytes: bytes(k.x, k.w, withBias ? k.c : 0, 3 * k.out, 3 * k.c, (accumulate ? 2 : 1) * (k.w + 2 * k.c)),
    inputs: (rng) => {
      const { x, w, bias, gamma, beta, runningMean, runningVar } = convBnParams(rng, p, withBias, zeroGamma);
      const y = new Float32Array(k.y);
      conv2d(x, w, withBias ? bias : null, y, conv);
      const out = new Float32Array(k.out);
      const argmax = new Int32Array(k.out);
      const saveMean = new Float32Array(k.c);
      const saveInvStd = new Float32Array(k.c);
      batchNormMaxPoolTrain(y, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, bnPool);
      return {
        x, w, bias, out, argmax, dy: rng.floats(k.out), gamma, beta, saveMean, saveInvStd,
        dw: rng.floats(k.w), dgamma: rng.floats(k.c), dbeta: rng.floats(k.c),
      };
    },
    outputs: ['dw', 'dgamma', 'dbeta'],
    // dw is conv2dBackwardWeight(x, dy') of the batch norm's gradient dy': under TF32 dy' is rounded
    // (x on its grid is not), so the bound's Σ|a·b| is Σ|x|·|dy'| with ref's dy'
    comparisons: { dw: GEMM_COMPARISON },
    tf32Magnitudes: (inp) => {
      const y = new Float32Array(k.y);
      conv2d(inp.x, inp.w, withBias ? inp.bias : null, y, conv);
      const dyConv = new Float32Array(k.y);
      batchNormMaxPoolBackward(y, inp.out, inp.argmax, inp.dy, inp.gamma, inp.saveMean, inp.saveInvStd, dyConv,
        new Float32Array(k.c), new Float32Array(k.c), bnPool, false);
      const dw = new Float32Array(k.w);
      conv2dBackwardWeight(inp.x.map(Math.abs), dyConv.map(Math.abs), dw, null, conv, false);
      return { dw };
    },
    run: (be, b) => be.convBatchNormMaxPoolBackward(b.x, b.w, withBias ? b.bias : null, b.out, b.argmax, b.dy, b.gamma,
      b.beta, b.saveMean, b.saveInvStd, b.dw, b.dgamma, b.dbeta, p, accumulate),
  });
}

const convFused = (n: number, cIn: number, cOut: number, h: number, w: number, kernel: number, stride: number, pad: number,
  pool: number, poolStride: number, activation: Activation): ConvBatchNormMaxPoolParams =>
  ({ n, cIn, h, w, cOut, kh: kernel, kw: kernel, stride, pad, eps: 1e-5, momentum: 0.1, activation, poolKh: pool, poolKw: pool, poolStride });

/** The cpu backend's single-channel path first (1 input channel, 3x3, pad 1, stride 1, a 2x2 pool
 *  with stride 2), then shapes that any backend composes from conv2d + batchNormMaxPoolTrain. */
export const convBatchNormMaxPoolShapes: readonly ConvBatchNormMaxPoolParams[] = [
  convFused(2, 1, 32, 28, 28, 3, 1, 1, 2, 2, 'relu'), // the seed CNN's conv1 → bn1 → relu → pool
  convFused(3, 1, 32, 28, 28, 3, 1, 1, 2, 2, 'none'),
  convFused(1, 1, 5, 7, 9, 3, 1, 1, 2, 2, 'relu'), // one image, odd planes: floor mode drops a row and a column
  convFused(9, 1, 7, 13, 11, 3, 1, 1, 2, 2, 'none'),
  convFused(2, 1, 5, 5, 15, 3, 1, 1, 2, 2, 'relu'),
  convFused(2, 1, 4, 9, 38, 3, 1, 1, 2, 2, 'relu'), // 19 pooled columns: a row spans more than one AVX2 vector
  convFused(9, 1, 3, 6, 35, 3, 1, 1, 2, 2, 'none'), // 17 pooled columns
  convFused(2, 2, 4, 9, 9, 3, 1, 1, 2, 2, 'relu'), // two input channels
  convFused(2, 3, 5, 10, 11, 3, 1, 0, 2, 2, 'none'), // three, no padding
  convFused(2, 1, 4, 13, 13, 3, 2, 1, 2, 2, 'relu'), // stride 2
  convFused(1, 1, 3, 12, 12, 5, 1, 2, 3, 2, 'relu'), // a 5x5 kernel, overlapping 3x3 windows
  convFused(3, 1, 4, 11, 9, 3, 1, 0, 2, 2, 'none'), // no padding
  convFused(2, 1, 4, 11, 11, 3, 1, 1, 3, 2, 'relu'), // overlapping windows on the single-channel path
];

export function fusedCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  batchNormMaxPoolShapes.forEach((p, i) => {
    cases.push(batchNormMaxPoolTrainCase('', p));
    cases.push(batchNormMaxPoolBackwardCase('', p, i % 2 === 1));
  });
  convBatchNormMaxPoolShapes.forEach((p, i) => {
    const withBias = i % 3 !== 2;
    cases.push(convBatchNormMaxPoolTrainCase(p, withBias));
    cases.push(convBatchNormMaxPoolBackwardCase(p, withBias, i % 2 === 1));
  });
  // a channel with γ = 0: the cpu backward's path that recomputes the convolution
  const seedConv1 = convBatchNormMaxPoolShapes[0];
  cases.push(convBatchNormMaxPoolTrainCase(seedConv1, true, true));
  cases.push(convBatchNormMaxPoolBackwardCase(seedConv1, true, false, true));
  cases.push(convBatchNormMaxPoolBackwardCase(convBatchNormMaxPoolShapes[3], false, true, true));
  return cases;
}
