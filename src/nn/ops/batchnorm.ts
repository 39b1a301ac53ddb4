// batchNorm over x [N, C] or [N, C, ...spatial] (viewed as [n, c, spatial]), optionally fused with
// a ReLU on its output (BatchNorm → ReLU is one pass forward, and backward is reluBackward on the
// output followed by batchNormBackward).
//
// Training: batch statistics, running-stat update (momentum, unbiased running_var), mean and
// 1/sqrt(var+eps) kept as aux buffers for the backward.
// Inference: running statistics. Its backward (saliency maps, fine-tuning a frozen BN) is
// composed from the contract: with invStd = 1/sqrt(rv + eps),
//   dx = dy·γ·invStd            = batchNormInference(dy, γ, β=0, mean=0, rv)
//   dγ = Σ dy·x̂,  x̂ = (x − rm)·invStd = batchNormInference(x, 1, 0, rm, rv)
//   dβ = Σ dy

import type { Activation, BatchNormParams } from '../backend.ts';
import { needsGrad, recordOp } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { f32, fmt, requireF32, requireSameBackend, requireShape } from './checks.ts';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  activation?: Activation;
}

export function batchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormOptions,
): Tensor {
  requireF32('batchNorm', 'x', x);
  if (x.shape.length < 2) throw new Error(`batchNorm: x must be [N, C] or [N, C, ...], got ${fmt(x.shape)}`);
  requireSameBackend('batchNorm', x, gamma);
  const [n, c] = x.shape;
  const spatial = x.size / (n * c);
  for (const [name, t] of [['gamma', gamma], ['beta', beta], ['running_mean', runningMean], ['running_var', runningVar]] as const) {
    requireShape('batchNorm', name, t, [c]);
  }
  const activation = opts.activation ?? 'none';
  const p: BatchNormParams = { n, c, spatial, eps: opts.eps ?? 1e-5, momentum: opts.momentum ?? 0.1, activation };
  const be = x.backend;
  const out = Tensor.empty(be, x.shape);
  const rec = needsGrad(x, gamma, beta);

  if (opts.training) {
    if (n * spatial < 2) {
      throw new Error(`batchNorm: training needs more than 1 value per channel, got x ${fmt(x.shape)}; use a batch of 2+ or eval()`);
    }
    const saveMean = be.alloc(c, 'f32');
    const saveInvStd = be.alloc(c, 'f32');
    be.batchNormTrain(f32(x), f32(gamma), f32(beta), f32(runningMean), f32(runningVar), f32(out), saveMean, saveInvStd, p);
    runningMean.markModified();
    runningVar.markModified();
    if (!rec) {
      be.free(saveMean);
      be.free(saveInvStd);
      return out;
    }
    const pb: BatchNormParams = { ...p, activation: 'none' };
    recordOp(
      out,
      'batchNorm',
      [x, gamma, beta],
      (gy, g) => {
        const dy = g.beforeActivation(activation, out, gy);
        const tx = g.target(x);
        const dx = tx === null || tx.accumulate ? g.temp(x.size) : tx.buf;
        const gb = g.pair(gamma, beta, c, c, false) ?? { a: g.temp(c), b: g.temp(c), accumulate: false };
        be.batchNormBackward(f32(x), dy, f32(gamma), saveMean, saveInvStd, dx, gb.a, gb.b!, pb, gb.accumulate);
        if (tx !== null && tx.accumulate) be.axpy(1, dx, tx.buf);
      },
      [x, gamma],
      [saveMean, saveInvStd],
    );
    return out;
  }

  be.batchNormInference(f32(x), f32(gamma), f32(beta), f32(runningMean), f32(runningVar), f32(out), p);
  if (rec) {
    const pn: BatchNormParams = { ...p, activation: 'none' };
    recordOp(
      out,
      'batchNorm(eval)',
      [x, gamma, beta],
      (gy, g) => {
        const dy = g.beforeActivation(activation, out, gy);
        const zeros = g.temp(c);
        be.fill(zeros, 0);
        const tx = g.target(x);
        if (tx !== null) {
          g.write(tx, x.size, (dx) => be.batchNormInference(dy, f32(gamma), zeros, zeros, f32(runningVar), dx, pn));
        }
        const layout = { outer: n, channels: c, inner: spatial };
        const tgamma = g.target(gamma);
        if (tgamma !== null) {
          const ones = g.temp(c);
          be.fill(ones, 1);
          const xhat = g.temp(x.size);
          be.batchNormInference(f32(x), ones, zeros, f32(runningMean), f32(runningVar), xhat, pn);
          const prod = g.temp(x.size);
          be.binary('mul', dy, xhat, prod);
          be.channelSum(prod, tgamma.buf, layout, tgamma.accumulate);
        }
        const tbeta = g.target(beta);
        if (tbeta !== null) be.channelSum(dy, tbeta.buf, layout, tbeta.accumulate);
      },
      [x, gamma, runningMean, runningVar],
    );
  }
  return out;
}
