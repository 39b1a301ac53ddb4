// Training-mode batch norm → activation → max pool over [N, C, H, W] as one fused op (the contract's
// batchNormMaxPoolTrain / batchNormMaxPoolBackward): the normalised tensor, as large as the
// convolution output before it, is never stored. Same values and gradients as
// batchNorm({ training: true, activation }) followed by maxPool2d; Sequential uses it for the
// BatchNorm2d → ReLU → MaxPool2d pattern while training.

import { poolOutputSize, type Activation, type Backend, type BatchNormMaxPoolParams, type DeviceBuffer } from '../backend.ts';
import { needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { f32, fmt, requireRank, requireSameBackend, requireShape } from './checks.ts';

export interface BatchNormMaxPoolOptions {
  momentum?: number;
  eps?: number;
  activation?: Activation;
  /** The max pool's window and stride (stride defaults to the window, as PyTorch). */
  kernel: number;
  stride?: number;
}

/** The batch norm + pool params over an [n, c, h, w] input (`input` names it in errors), after the
 *  checks batchNormMaxPool2d and convBatchNormMaxPool2d share: γ, β and the running statistics
 *  [c], a positive integer window and stride that fit, more than one value per channel. */
export function batchNormPoolParams(
  op: string, input: string, [n, c, h, w]: readonly number[], gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  opts: BatchNormMaxPoolOptions,
): { p: BatchNormMaxPoolParams; hOut: number; wOut: number } {
  for (const [name, t] of [['gamma', gamma], ['beta', beta], ['running_mean', runningMean], ['running_var', runningVar]] as const) {
    requireShape(op, name, t, [c]);
  }
  const kernel = opts.kernel;
  const stride = opts.stride ?? kernel;
  if (!Number.isInteger(kernel) || !Number.isInteger(stride) || kernel < 1 || stride < 1) {
    throw new Error(`${op}: kernel and stride must be positive integers, got kernel ${kernel}, stride ${stride}`);
  }
  if (n * h * w < 2) {
    throw new Error(`${op}: training needs more than 1 value per channel, got ${input}; use a batch of 2+ or eval()`);
  }
  const p: BatchNormMaxPoolParams = {
    n, c, h, w, kh: kernel, kw: kernel, stride, eps: opts.eps ?? 1e-5, momentum: opts.momentum ?? 0.1, activation: opts.activation ?? 'none',
  };
  const { hOut, wOut } = poolOutputSize(p);
  if (hOut < 1 || wOut < 1) throw new Error(`${op}: a ${kernel}x${kernel} window does not fit the ${input}`);
  return { p, hOut, wOut };
}

/** What a batch norm + pool forward leaves for its backward: the pool's argmax, the batch statistics. */
export interface SavedBnPool {
  argmax: DeviceBuffer<'i32'>;
  saveMean: DeviceBuffer<'f32'>;
  saveInvStd: DeviceBuffer<'f32'>;
}

export function allocSavedBnPool(be: Backend, outSize: number, c: number): SavedBnPool {
  return { argmax: be.alloc(outSize, 'i32'), saveMean: be.alloc(c, 'f32'), saveInvStd: be.alloc(c, 'f32') };
}

/** Frees them when nothing is recorded (else the node's release frees them after its backward). */
export function freeSavedBnPool(be: Backend, s: SavedBnPool): void {
  be.free(s.argmax);
  be.free(s.saveMean);
  be.free(s.saveInvStd);
}

export function batchNormMaxPool2d(
  x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormMaxPoolOptions,
): Tensor {
  const op = 'batchNormMaxPool2d';
  requireRank(op, 'x', x, [4]);
  requireSameBackend(op, x, gamma);
  const { p, hOut, wOut } = batchNormPoolParams(op, `input ${fmt(x.shape)}`, x.shape, gamma, beta, runningMean, runningVar, opts);
  const { n, c } = p;
  const be = x.backend;
  const out = Tensor.empty(be, [n, c, hOut, wOut]);
  const saved = allocSavedBnPool(be, out.size, c);
  const { argmax, saveMean, saveInvStd } = saved;
  be.batchNormMaxPoolTrain(f32(x), f32(gamma), f32(beta), f32(runningMean), f32(runningVar), f32(out), argmax, saveMean, saveInvStd, p);
  runningMean.markModified();
  runningVar.markModified();
  if (!needsGrad(x, gamma, beta)) {
    freeSavedBnPool(be, saved);
    return out;
  }
  recordOp(
    out,
    op,
    [x, gamma, beta],
    (gy, g) => {
      const tx = g.target(x);
      const dx = tx === null || tx.accumulate ? g.temp(x.size) : tx.buf;
      const gb = g.pair(gamma, beta, c, c, false) ?? { a: g.temp(c), b: g.temp(c), accumulate: false };
      be.batchNormMaxPoolBackward(f32(x), f32(out), argmax, gy, f32(gamma), saveMean, saveInvStd, dx, gb.a, gb.b!, p, gb.accumulate);
      if (tx !== null && tx.accumulate) be.axpy(1, dx, tx.buf);
    },
    [x, gamma],
    [argmax, saveMean, saveInvStd],
  );
  return out;
}
