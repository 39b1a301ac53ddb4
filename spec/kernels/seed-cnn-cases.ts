// The kernels of one seed-CNN training step (and inference), at the model's own shapes:
//   conv3x3(1->32, pad 1) + BN + ReLU + maxpool2, conv3x3(32->64, pad 1) + BN + ReLU + maxpool2,
//   dropout2d 0.25, flatten 3136, linear 128 + ReLU, dropout 0.5, linear 10; Adam over 421,834 params.
// Not run by the conformance test (too slow for ref at batch 256 on this machine); the kernel
// benchmarks time these first.

import type { BatchNormParams, Conv2dParams, Pool2dParams } from '../../src/nn/backend.ts';
import { bytes, defineCase, type KernelCase } from './case-kit.ts';
import { conv2dBackwardInputCase, conv2dBackwardWeightCase, conv2dForwardCase, matmulCase } from './cases-dense.ts';
import { crossEntropyBackwardCase, crossEntropyCase, dropoutCase, adamCase } from './cases-misc.ts';
import { batchNormBackwardCase, batchNormInferenceCase, batchNormTrainCase, maxPoolBackwardCase, maxPoolCase } from './cases-norm-pool.ts';

/** The batch sizes the benchmarks report first. */
export const seedCnnBatches: readonly number[] = [1, 64, 256];

export const SEED_CNN_PARAMS = 421_834;

export function seedCnnCases(batch: number): KernelCase[] {
  const b = batch;
  const label = `seed-cnn b${b} `;
  const conv1: Conv2dParams = { n: b, cIn: 1, h: 28, w: 28, cOut: 32, kh: 3, kw: 3, stride: 1, pad: 1 };
  const conv2: Conv2dParams = { n: b, cIn: 32, h: 14, w: 14, cOut: 64, kh: 3, kw: 3, stride: 1, pad: 1 };
  const bn1: BatchNormParams = { n: b, c: 32, spatial: 28 * 28, eps: 1e-5, momentum: 0.1, activation: 'relu' };
  const bn2: BatchNormParams = { n: b, c: 64, spatial: 14 * 14, eps: 1e-5, momentum: 0.1, activation: 'relu' };
  const pool1: Pool2dParams = { n: b, c: 32, h: 28, w: 28, kh: 2, kw: 2, stride: 2 };
  const pool2: Pool2dParams = { n: b, c: 64, h: 14, w: 14, kh: 2, kw: 2, stride: 2 };
  const cases: KernelCase[] = [
    conv2dForwardCase(`${label}conv1 `, conv1, true, 'none'),
    conv2dBackwardWeightCase(`${label}conv1 `, conv1, true, false),
    maxPoolCase(`${label}pool1 `, pool1, false),
    maxPoolBackwardCase(`${label}pool1 `, pool1),
    conv2dForwardCase(`${label}conv2 `, conv2, true, 'none'),
    conv2dBackwardInputCase(`${label}conv2 `, conv2, false),
    conv2dBackwardWeightCase(`${label}conv2 `, conv2, true, false),
    // The conv2 convolution as one GEMM (im2col): [b·14·14, 288] · [64, 288]ᵀ.
    matmulCase(`${label}conv2-as-gemm `, { m: b * 14 * 14, n: 64, k: 288, transA: false, transB: true }, false),
    maxPoolCase(`${label}pool2 `, pool2, false),
    maxPoolBackwardCase(`${label}pool2 `, pool2),
    dropoutCase(`${label}drop1 `, b * 64 * 49, { p: 0.25, seed: 1, step: 1, spatial: 49 }, false),
    dropoutCase(`${label}drop1 `, b * 64 * 49, { p: 0.25, seed: 1, step: 1, spatial: 49 }, true),
    // fc1: y = relu(x · W1ᵀ + b1), x [b, 3136], W1 [128, 3136]; backward dx = dy · W1, dW1 = dyᵀ · x.
    matmulCase(`${label}fc1 `, { m: b, n: 128, k: 3136, transA: false, transB: true, activation: 'relu' }, true),
    matmulCase(`${label}fc1-dx `, { m: b, n: 3136, k: 128, transA: false, transB: false }, false),
    matmulCase(`${label}fc1-dw `, { m: 128, n: 3136, k: b, transA: true, transB: false }, false),
    dropoutCase(`${label}drop2 `, b * 128, { p: 0.5, seed: 1, step: 1, spatial: 1 }, false),
    matmulCase(`${label}fc2 `, { m: b, n: 10, k: 128, transA: false, transB: true }, true),
    matmulCase(`${label}fc2-dx `, { m: b, n: 128, k: 10, transA: false, transB: false }, false),
    matmulCase(`${label}fc2-dw `, { m: 10, n: 128, k: b, transA: true, transB: false }, false),
    crossEntropyCase(label, { rows: b, cols: 10, labelSmoothing: 0 }),
    crossEntropyBackwardCase(label, { rows: b, cols: 10, labelSmoothing: 0 }, false),
    adamCase(label, SEED_CNN_PARAMS, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 10 }),
    defineCase({
      name: `reluBackward ${label}fc1 ${b * 128}`, kernel: 'reluBackward', flops: b * 128, bytes: bytes(3 * b * 128),
      inputs: (rng) => ({ x: rng.floats(b * 128), dy: rng.floats(b * 128), dx: rng.floats(b * 128) }),
      outputs: ['dx'],
      run: (be, bufs) => be.reluBackward(bufs.x, bufs.dy, bufs.dx, false),
    }),
    defineCase({
      name: `channelSum ${label}fc1-db`, kernel: 'channelSum', flops: b * 128, bytes: bytes(b * 128, 128),
      inputs: (rng) => ({ x: rng.floats(b * 128), out: rng.floats(128) }),
      outputs: ['out'],
      run: (be, bufs) => be.channelSum(bufs.x, bufs.out, { outer: b, channels: 128, inner: 1 }, false),
    }),
    defineCase({
      name: `argmax ${label}predictions`, kernel: 'argmax', flops: b * 10, bytes: bytes(b * 10, b),
      inputs: (rng) => ({ x: rng.floats(b * 10), out: rng.ints(b, 10) }),
      outputs: ['out'],
      run: (be, bufs) => be.argmax(bufs.x, bufs.out, b, 10),
    }),
  ];
  // BatchNorm training needs more than one value per channel: always true here (spatial >= 196).
  cases.push(
    batchNormTrainCase(`${label}bn1 `, bn1),
    batchNormBackwardCase(`${label}bn1 `, { ...bn1, activation: 'none' }, false),
    batchNormInferenceCase(`${label}bn1 `, bn1),
    batchNormTrainCase(`${label}bn2 `, bn2),
    batchNormBackwardCase(`${label}bn2 `, { ...bn2, activation: 'none' }, false),
    batchNormInferenceCase(`${label}bn2 `, bn2),
  );
  return cases;
}

/** The seed CNN's kernels at batch 1, 64 and 256. */
export const seedCnnShapes: readonly KernelCase[] = seedCnnBatches.flatMap((b) => seedCnnCases(b));
