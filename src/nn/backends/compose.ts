// Contract kernels composed from other contract kernels, for backends without a fused version of
// their own (webgpu and cuda today). Each first runs the shared checks, so errors name the fused
// kernel, then enqueues the unfused chain; temporaries are freed right after their last use (the
// contract lets a backend keep them alive until queued work has run).

import {
  splitBatchNormMaxPool, splitConv2dMaxPool, splitConvBatchNormMaxPool, type Backend, type BatchNormMaxPoolParams,
  type Conv2dMaxPoolParams, type ConvBatchNormMaxPoolParams, type DeviceBuffer,
} from '../backend.ts';
import { batchNormMaxPoolSizes, conv2dMaxPoolSizes, convBatchNormMaxPoolSizes, requireLength } from './validate.ts';

type F32 = DeviceBuffer<'f32'>;
type I32 = DeviceBuffer<'i32'>;

/** batchNormTrain (with the activation) into a temporary, then maxPool2d. */
export function composeBatchNormMaxPoolTrain(
  be: Backend, x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, out: F32, argmax: I32,
  saveMean: F32, saveInvStd: F32, p: BatchNormMaxPoolParams,
): void {
  const k = 'batchNormMaxPoolTrain';
  const s = batchNormMaxPoolSizes(k, p, true);
  requireLength(k, 'x', x, s.x, `n·c·h·w for ${JSON.stringify(p)}`);
  const { bn, pool } = splitBatchNormMaxPool(p);
  const y = be.alloc(s.x, 'f32');
  try {
    be.batchNormTrain(x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, bn);
    be.maxPool2d(y, out, argmax, pool);
  } finally {
    be.free(y);
  }
}

/** reluBackward on the pooled gradient (the activation's mask is out > 0), maxPool2dBackward,
 *  then batchNormBackward. */
export function composeBatchNormMaxPoolBackward(
  be: Backend, x: F32, out: F32, argmax: I32, dy: F32, gamma: F32, saveMean: F32, saveInvStd: F32,
  dx: F32, dgamma: F32, dbeta: F32, p: BatchNormMaxPoolParams, accumulate = false,
): void {
  const k = 'batchNormMaxPoolBackward';
  const s = batchNormMaxPoolSizes(k, p, false);
  requireLength(k, 'dy', dy, s.out, `the pooled size for ${JSON.stringify(p)}`);
  requireLength(k, 'out', out, s.out, `the pooled size for ${JSON.stringify(p)}`);
  const { bn, pool } = splitBatchNormMaxPool(p);
  const temps: DeviceBuffer[] = [];
  try {
    let g = dy;
    if ((p.activation ?? 'none') === 'relu') {
      g = be.alloc(s.out, 'f32');
      temps.push(g);
      be.reluBackward(out, dy, g);
    }
    const dz = be.alloc(s.x, 'f32');
    temps.push(dz);
    be.maxPool2dBackward(g, argmax, dz, pool);
    be.batchNormBackward(x, dz, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, { ...bn, activation: 'none' }, accumulate);
  } finally {
    for (const t of temps) be.free(t);
  }
}

/** conv2d into a temporary, then maxPool2d with a temporary argmax. */
export function composeConv2dMaxPool(be: Backend, x: F32, w: F32, bias: F32 | null, out: F32, p: Conv2dMaxPoolParams): void {
  const k = 'conv2dMaxPool';
  const s = conv2dMaxPoolSizes(k, p);
  const what = `the params ${JSON.stringify(p)}`;
  requireLength(k, 'x', x, s.x, what);
  requireLength(k, 'w', w, s.w, what);
  if (bias) requireLength(k, 'bias', bias, s.bias, 'cOut');
  requireLength(k, 'out', out, s.out, `the pooled size for ${what}`);
  const { conv, pool } = splitConv2dMaxPool(p);
  const y = be.alloc(s.y, 'f32');
  const argmax = be.alloc(s.out, 'i32');
  try {
    be.conv2d(x, w, bias, y, conv);
    be.maxPool2d(y, out, argmax, pool);
  } finally {
    be.free(y);
    be.free(argmax);
  }
}

/** The convolution's operands against the params (the batch norm + pool ones are checked by the
 *  kernel the composition calls). */
function requireConvOperands(k: string, x: F32, w: F32, bias: F32 | null, p: ConvBatchNormMaxPoolParams): { y: number } {
  const s = convBatchNormMaxPoolSizes(k, p, true);
  const what = `the params ${JSON.stringify(p)}`;
  requireLength(k, 'x', x, s.x, what);
  requireLength(k, 'w', w, s.w, what);
  if (bias) requireLength(k, 'bias', bias, s.bias, 'cOut');
  return { y: s.y };
}

/** conv2d into a temporary y, then batchNormMaxPoolTrain(y, …). */
export function composeConvBatchNormMaxPoolTrain(
  be: Backend, x: F32, w: F32, bias: F32 | null, gamma: F32, beta: F32, runningMean: F32, runningVar: F32,
  out: F32, argmax: I32, saveMean: F32, saveInvStd: F32, p: ConvBatchNormMaxPoolParams,
): void {
  const s = requireConvOperands('convBatchNormMaxPoolTrain', x, w, bias, p);
  const { conv, bnPool } = splitConvBatchNormMaxPool(p);
  const y = be.alloc(s.y, 'f32');
  try {
    be.conv2d(x, w, bias, y, conv);
    be.batchNormMaxPoolTrain(y, gamma, beta, runningMean, runningVar, out, argmax, saveMean, saveInvStd, bnPool);
  } finally {
    be.free(y);
  }
}

/** y recomputed by conv2d, batchNormMaxPoolBackward into a temporary dy', then
 *  conv2dBackwardWeight(x, dy') without the bias gradient (zero by the contract). */
export function composeConvBatchNormMaxPoolBackward(
  be: Backend, x: F32, w: F32, bias: F32 | null, out: F32, argmax: I32, dy: F32, gamma: F32, _beta: F32, saveMean: F32,
  saveInvStd: F32, dw: F32, dgamma: F32, dbeta: F32, p: ConvBatchNormMaxPoolParams, accumulate = false,
): void {
  const s = requireConvOperands('convBatchNormMaxPoolBackward', x, w, bias, p);
  const { conv, bnPool } = splitConvBatchNormMaxPool(p);
  const y = be.alloc(s.y, 'f32');
  const dyConv = be.alloc(s.y, 'f32');
  try {
    be.conv2d(x, w, bias, y, conv);
    be.batchNormMaxPoolBackward(y, out, argmax, dy, gamma, saveMean, saveInvStd, dyConv, dgamma, dbeta, bnPool, accumulate);
    be.conv2dBackwardWeight(x, dyConv, dw, null, conv, accumulate);
  } finally {
    be.free(y);
    be.free(dyConv);
  }
}
