// Convolution shapes that take the cpu backend's Winograd F(2x2, 3x3) path (3x3, stride 1, pad
// 0..2, at least 8 channels on each side, 4+ images): odd output sizes (partial 2x2 tiles), every
// pad, more tiles than one vector of them, bias/ReLU/accumulate variants. The forward passes of one
// or two images (winogradFewShapes) take its batch-1 path (winogradForwardFew: channel-vectorised
// transforms, output-channel panels): channel counts that are not a multiple of a vector or of a
// GEMM panel, odd sizes, every pad. For every other backend they are just more convolution cases.

import type { Conv2dParams } from '../../src/nn/backend.ts';
import type { KernelCase } from './case-kit.ts';
import { conv2dBackwardInputCase, conv2dBackwardWeightCase, conv2dForwardCase } from './cases-dense.ts';

export const winogradShapes: readonly Conv2dParams[] = [
  { n: 4, cIn: 8, h: 7, w: 5, cOut: 9, kh: 3, kw: 3, stride: 1, pad: 1 }, // odd hOut and wOut
  { n: 5, cIn: 9, h: 6, w: 6, cOut: 8, kh: 3, kw: 3, stride: 1, pad: 0 },
  { n: 4, cIn: 8, h: 5, w: 9, cOut: 12, kh: 3, kw: 3, stride: 1, pad: 2 },
  { n: 9, cIn: 10, h: 14, w: 13, cOut: 8, kh: 3, kw: 3, stride: 1, pad: 1 }, // 7x7 tiles, several chunks
  { n: 4, cIn: 8, h: 3, w: 20, cOut: 8, kh: 3, kw: 3, stride: 1, pad: 1 }, // 10 tiles per row: past one AVX2 vector, and AVX-512's 8-lane tile rows
  { n: 4, cIn: 8, h: 4, w: 36, cOut: 8, kh: 3, kw: 3, stride: 1, pad: 1 }, // 18 tiles per row: past one AVX-512 vector
];

export const winogradFewShapes: readonly Conv2dParams[] = [
  { n: 1, cIn: 8, h: 7, w: 5, cOut: 9, kh: 3, kw: 3, stride: 1, pad: 1 }, // odd sizes, a 1-channel last panel
  { n: 2, cIn: 9, h: 6, w: 6, cOut: 8, kh: 3, kw: 3, stride: 1, pad: 0 }, // two images, cIn past a vector
  { n: 1, cIn: 10, h: 5, w: 9, cOut: 20, kh: 3, kw: 3, stride: 1, pad: 2 },
  { n: 1, cIn: 32, h: 14, w: 14, cOut: 64, kh: 3, kw: 3, stride: 1, pad: 1 }, // the seed CNN's conv2 at batch 1
  { n: 2, cIn: 12, h: 3, w: 20, cOut: 33, kh: 3, kw: 3, stride: 1, pad: 1 }, // 10 tiles per row, 3 panels
];

export function winogradCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  winogradFewShapes.forEach((p, i) => cases.push(conv2dForwardCase('', p, i % 2 === 0, i % 3 === 1 ? 'none' : 'relu')));
  winogradShapes.forEach((p, i) => {
    cases.push(conv2dForwardCase('', p, i % 2 === 0, i % 3 === 1 ? 'none' : 'relu'));
    cases.push(conv2dBackwardInputCase('', p, i % 2 === 1));
    cases.push(conv2dBackwardWeightCase('', p, i % 2 === 0, i % 3 === 2));
  });
  return cases;
}
