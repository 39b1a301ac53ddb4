// Inference fusion of Conv2d → BatchNorm2d (→ ReLU) into one convolution. In eval mode the
// batchnorm is a per-channel affine map, so with σ = sqrt(running_var + eps):
//   w' = w · γ/σ               (per output channel)
//   b' = (b − μ) · γ/σ + β     (b = 0 when the conv has no bias)
// Both are exactly batchNormInference applied to the weight viewed as [1, Cout, Cin·kh·kw] (with
// mean 0 and β 0) and to the bias viewed as [1, Cout, 1]: two small kernels on the device, no
// readback. The folded pair is cached per convolution and recomputed only when one of the six
// tensors it comes from changed (their `version`, bumped by optimizer steps, loadStateDict,
// write() and training-mode batch norm): at batch 1 the fold's kernels and allocations cost
// about as much as a convolution. releaseFold frees the cache (Conv2d.dispose calls it).
// Used by Sequential only under noGrad in eval mode: the folded weights record no gradient.

import type { Activation, DeviceBuffer } from '../backend.ts';
import { conv2d, conv2dMaxPool } from '../ops/conv.ts';
import { keep } from '../scope.ts';
import { Tensor } from '../tensor.ts';
import type { BatchNorm2d, Conv2d } from './layers.ts';
import type { MaxPool2d } from './simple.ts';

function f32(t: Tensor): DeviceBuffer<'f32'> {
  return t.buffer as DeviceBuffer<'f32'>;
}

interface Folded {
  /** The source tensors and their versions when the pair was computed. */
  key: unknown[];
  w: Tensor;
  b: Tensor;
}

const folds = new WeakMap<Conv2d, Folded>();

function sources(conv: Conv2d, bn: BatchNorm2d): unknown[] {
  const key: unknown[] = [bn.eps];
  for (const t of [conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar]) key.push(t, t?.version);
  return key;
}

function fold(conv: Conv2d, bn: BatchNorm2d): Folded {
  const be = conv.backend;
  const cOut = conv.weight.shape[0];
  const perChannel = conv.weight.size / cOut;
  const zeros = be.alloc(cOut, 'f32');
  be.fill(zeros, 0);
  const w = keep(Tensor.empty(be, conv.weight.shape));
  const b = keep(Tensor.empty(be, [cOut]));
  try {
    const p = { n: 1, c: cOut, eps: bn.eps, momentum: bn.momentum, activation: 'none' as const };
    be.batchNormInference(f32(conv.weight), f32(bn.weight), zeros, zeros, f32(bn.runningVar), f32(w), { ...p, spatial: perChannel });
    const bias = conv.bias === null ? zeros : f32(conv.bias);
    be.batchNormInference(bias, f32(bn.weight), f32(bn.bias), f32(bn.runningMean), f32(bn.runningVar), f32(b), { ...p, spatial: 1 });
  } finally {
    be.free(zeros);
  }
  return { key: sources(conv, bn), w, b };
}

/** Frees the cached folded weights of `conv` (when it is disposed, or to drop the memory). */
export function releaseFold(conv: Conv2d): void {
  const cached = folds.get(conv);
  if (!cached) return;
  cached.w.dispose();
  cached.b.dispose();
  folds.delete(conv);
}

/** The folded convolution (+ activation), and the max pool after it when given: one kernel
 *  (conv2dMaxPool) that stores neither the convolution's output nor an argmax. */
export function convBatchNormInference(conv: Conv2d, bn: BatchNorm2d, x: Tensor, activation: Activation, pool: MaxPool2d | null = null): Tensor {
  const cOut = conv.weight.shape[0];
  if (bn.weight.size !== cOut) {
    throw new Error(`Conv2d → BatchNorm2d: the conv has ${cOut} output channels but the batchnorm ${bn.weight.size}`);
  }
  let cached = folds.get(conv);
  const key = sources(conv, bn);
  if (!cached || cached.w.disposed || cached.key.length !== key.length || cached.key.some((v, i) => v !== key[i])) {
    releaseFold(conv);
    cached = fold(conv, bn);
    folds.set(conv, cached);
  }
  if (pool) {
    return conv2dMaxPool(x, cached.w, cached.b, {
      stride: conv.stride, pad: conv.pad, activation, poolKernel: pool.kernelSize, poolStride: pool.stride,
    });
  }
  return conv2d(x, cached.w, cached.b, { stride: conv.stride, pad: conv.pad, activation });
}
