// Cases bench:kernels adds to the seed CNN's own (spec/kernels/seed-cnn-cases.ts): the
// kernels of a training step that table leaves out, so that every one is timed, and the conv2
// GEMM at the training batch (128).

import type { BatchNormParams, Conv2dParams } from '../src/nn/backend.ts';
import type { KernelCase } from '../spec/kernels/case-kit.ts';
import { conv2dBackwardInputCase } from '../spec/kernels/cases-dense.ts';
import { batchNormTrainCase } from '../spec/kernels/cases-norm-pool.ts';

export function extraBenchCases(batch: number): KernelCase[] {
  const b = batch;
  const label = `seed-cnn b${b} `;
  const conv1: Conv2dParams = { n: b, cIn: 1, h: 28, w: 28, cOut: 32, kh: 3, kw: 3, stride: 1, pad: 1 };
  const bn1d: BatchNormParams = { n: b, c: 128, spatial: 1, eps: 1e-5, momentum: 0.1, activation: 'relu' };
  const cases: KernelCase[] = [
    // Never needed by the model (the input needs no gradient) but part of the contract.
    conv2dBackwardInputCase(`${label}conv1 `, conv1, false),
  ];
  if (b > 1) cases.push(batchNormTrainCase(`${label}bn1d-128 `, bn1d));
  return cases;
}
