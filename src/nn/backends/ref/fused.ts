// Batch norm (training) → activation → max pool, forward and backward, written literally as the
// unfused kernels of this folder (batchnorm.ts, pool.ts, elementwise.ts) over a temporary: the
// oracle for every backend's fused version. Generic over Float32Array | Float64Array like the rest.

import { splitBatchNormMaxPool, type BatchNormMaxPoolParams } from '../../backend.ts';
import { batchNormBackward, batchNormTrain } from './batchnorm.ts';
import { reluBackward } from './elementwise.ts';
import type { Num } from './numeric.ts';
import { maxPool2d, maxPool2dBackward } from './pool.ts';

function like(x: Num, length: number): Num {
  return x instanceof Float64Array ? new Float64Array(length) : new Float32Array(length);
}

export function batchNormMaxPoolTrain(
  x: Num, gamma: Num, beta: Num, runningMean: Num, runningVar: Num, out: Num, argmax: Int32Array, saveMean: Num, saveInvStd: Num,
  p: BatchNormMaxPoolParams,
): void {
  const { bn, pool } = splitBatchNormMaxPool(p);
  const y = like(x, p.n * p.c * p.h * p.w);
  batchNormTrain(x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, bn);
  maxPool2d(y, out, argmax, pool);
}

/** dx is overwritten; dγ and dβ accumulate when asked (as batchNormBackward). */
export function batchNormMaxPoolBackward(
  x: Num, out: Num, argmax: Int32Array, dy: Num, gamma: Num, saveMean: Num, saveInvStd: Num, dx: Num, dgamma: Num, dbeta: Num,
  p: BatchNormMaxPoolParams, accumulate: boolean,
): void {
  const { bn, pool } = splitBatchNormMaxPool(p);
  const pooled = argmax.length;
  const g = like(dy, pooled);
  if ((p.activation ?? 'none') === 'relu') reluBackward(out.subarray(0, pooled), dy, g, false);
  else g.set(dy.subarray(0, pooled));
  const dz = like(x, p.n * p.c * p.h * p.w);
  maxPool2dBackward(g, argmax, dz, pool);
  batchNormBackward(x, dz, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, { ...bn, activation: 'none' }, accumulate);
}
