// A network's first layer in training, convolution → batch norm (training) → activation → max pool,
// as one fused op (the contract's convBatchNormMaxPoolTrain / convBatchNormMaxPoolBackward): neither
// the convolution's output nor the normalised tensor need be stored (a backend with its own kernel
// recomputes the cheap convolution of a 1-channel input instead). Same values and gradients for the
// weight, γ and β as conv2d then batchNormMaxPool2d. Only for an input that needs no gradient: the
// backward has no dx. The bias gradient is exactly zero (the batch mean subtracts any bias).
// Sequential uses it for Conv2d → BatchNorm2d (→ ReLU) → MaxPool2d while training.

import type { ConvBatchNormMaxPoolParams, DeviceBuffer } from '../backend.ts';
import { needsGrad, recordOp, type BackwardContext } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { allocSavedBnPool, batchNormPoolParams, freeSavedBnPool } from './batchnorm-pool.ts';
import { f32, fmt, requireSameBackend } from './checks.ts';
import { convParams, type Conv2dOptions } from './conv.ts';

export interface ConvBatchNormMaxPoolOptions extends Conv2dOptions {
  /** The batch norm's (defaults as BatchNorm2d: 1e-5 and 0.1). */
  eps?: number;
  momentum?: number;
  /** The max pool's square window and stride (default: the window). */
  poolKernel: number;
  poolStride?: number;
}

/** Buffers for dw, dγ and dβ under the kernel's one accumulate flag: a gradient's own buffer where
 *  it is wanted, else a temp; when any of them already holds a gradient, the fresh ones are zeroed
 *  so the kernel can add to all three. */
function weightAndAffineTargets(
  g: BackwardContext, w: Tensor, gamma: Tensor, beta: Tensor,
): { dw: DeviceBuffer<'f32'>; dgamma: DeviceBuffer<'f32'>; dbeta: DeviceBuffer<'f32'>; accumulate: boolean } {
  const tw = g.target(w);
  const gb = g.pair(gamma, beta, gamma.size, beta.size, false);
  const accumulate = (tw?.accumulate ?? false) || (gb?.accumulate ?? false);
  const dw = tw?.buf ?? g.temp(w.size);
  const dgamma = gb?.a ?? g.temp(gamma.size);
  const dbeta = gb?.b ?? g.temp(beta.size);
  if (accumulate) {
    if (tw !== null && !tw.accumulate) g.backend.fill(dw, 0);
    if (gb !== null && !gb.accumulate) {
      g.backend.fill(dgamma, 0);
      g.backend.fill(dbeta, 0);
    }
  }
  return { dw, dgamma, dbeta, accumulate };
}

const OP = 'convBatchNormMaxPool2d';

/** The op's params after the checks of conv2d and batchNormMaxPool2d, and the pooled output size. */
function fusedParams(
  x: Tensor, w: Tensor, b: Tensor | null, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  opts: ConvBatchNormMaxPoolOptions,
): { p: ConvBatchNormMaxPoolParams; hOut: number; wOut: number } {
  const conv = convParams(OP, x, w, b, opts);
  const { n, cOut } = conv.p;
  const bn = batchNormPoolParams(OP, `convolution output [${n}, ${cOut}, ${conv.hOut}, ${conv.wOut}] of x ${fmt(x.shape)}`,
    [n, cOut, conv.hOut, conv.wOut], gamma, beta, runningMean, runningVar,
    { eps: opts.eps, momentum: opts.momentum, activation: opts.activation, kernel: opts.poolKernel, stride: opts.poolStride });
  const c = conv.p;  // field by field, not `...conv.p` (see convParams)
  const p: ConvBatchNormMaxPoolParams = {
    n, cIn: c.cIn, h: c.h, w: c.w, cOut, kh: c.kh, kw: c.kw, stride: c.stride, pad: c.pad,
    eps: bn.p.eps, momentum: bn.p.momentum, activation: bn.p.activation, poolKh: bn.p.kh, poolKw: bn.p.kw, poolStride: bn.p.stride,
  };
  return { p, hOut: bn.hOut, wOut: bn.wOut };
}

/** Whether x.backend runs convBatchNormMaxPool2d with these operands as one kernel (the contract's
 *  fusesConvBatchNormMaxPool). Elsewhere the op composes the unfused kernels and its backward
 *  recomputes the convolution, so Sequential keeps the unfused layers there. False for operands the
 *  op would reject (the unfused path then gives its own error). */
export function convBatchNormMaxPoolFuses(
  x: Tensor, w: Tensor, b: Tensor | null, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  opts: ConvBatchNormMaxPoolOptions,
): boolean {
  const be = x.backend;
  if (!be.fusesConvBatchNormMaxPool) return false;
  let p: ConvBatchNormMaxPoolParams;
  try {
    p = fusedParams(x, w, b, gamma, beta, runningMean, runningVar, opts).p;
  } catch {
    return false;
  }
  return be.fusesConvBatchNormMaxPool(p);
}

/** maxPool2d(batchNorm(conv2d(x, w, b), { training: true, activation })) for an x that needs no
 *  gradient; updates runningMean and runningVar as batchNorm does. */
export function convBatchNormMaxPool2d(
  x: Tensor, w: Tensor, b: Tensor | null, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  opts: ConvBatchNormMaxPoolOptions,
): Tensor {
  const { p, hOut, wOut } = fusedParams(x, w, b, gamma, beta, runningMean, runningVar, opts);
  if (needsGrad(x)) {
    throw new Error(`${OP}: x ${fmt(x.shape)} needs a gradient, but this fused op computes none for its input (it is for a network's first layer); use conv2d then batchNormMaxPool2d`);
  }
  const { n, cOut } = p;
  for (const t of [gamma, beta, runningMean, runningVar]) requireSameBackend(OP, x, t);
  const be = x.backend;
  const bias = b === null ? null : f32(b);
  const out = Tensor.empty(be, [n, cOut, hOut, wOut]);
  const saved = allocSavedBnPool(be, out.size, cOut);
  const { argmax, saveMean, saveInvStd } = saved;
  be.convBatchNormMaxPoolTrain(f32(x), f32(w), bias, f32(gamma), f32(beta), f32(runningMean), f32(runningVar),
    f32(out), argmax, saveMean, saveInvStd, p);
  runningMean.markModified();
  runningVar.markModified();
  if (!needsGrad(w, b, gamma) && !needsGrad(beta)) {
    freeSavedBnPool(be, saved);
    return out;
  }
  recordOp(
    out,
    OP,
    [x, w, b, gamma, beta],
    (gy, g) => {
      const t = weightAndAffineTargets(g, w, gamma, beta);
      be.convBatchNormMaxPoolBackward(f32(x), f32(w), bias, f32(out), argmax, gy, f32(gamma), f32(beta), saveMean, saveInvStd,
        t.dw, t.dgamma, t.dbeta, p, t.accumulate);
      // the bias gradient is exactly zero: written when fresh, nothing to add when accumulating
      const tb = g.target(b);
      if (tb !== null && !tb.accumulate) be.fill(tb.buf, 0);
    },
    b === null ? [x, w, gamma] : [x, w, b, gamma],
    [argmax, saveMean, saveInvStd],
  );
  return out;
}
