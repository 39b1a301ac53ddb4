// Conformance cases for the fused convolution → activation → max pool of inference
// (conv2dMaxPool). Shapes for each of the cpu backend's paths: the direct single-channel kernel
// (conv1's shape, and a padless one whose pooled plane drops a row and a column), Winograd with
// many images and with one (odd planes, pad 2, overlapping 3x3 windows), and the general path
// (stride 2, a 1x1 kernel).

import { type Activation, type Conv2dMaxPoolParams, splitConv2dMaxPool, poolOutputSize } from '../../src/nn/backend.ts';
import { bytes, defineCase, type KernelCase } from './case-kit.ts';
import { GEMM_COMPARISON } from './cases-dense.ts';

function label(p: Conv2dMaxPoolParams): string {
  return `n${p.n} c${p.cIn}>${p.cOut} ${p.h}x${p.w} k${p.kh}${p.kw !== p.kh ? `x${p.kw}` : ''} s${p.stride} p${p.pad} ` +
    `pool${p.poolKh}${p.poolKw !== p.poolKh ? `x${p.poolKw}` : ''} s${p.poolStride}`;
}

export function conv2dMaxPoolCase(p: Conv2dMaxPoolParams, withBias: boolean): KernelCase {
  const { conv, pool } = splitConv2dMaxPool(p);
  const { hOut, wOut } = poolOutputSize(pool);
  const x = p.n * p.cIn * p.h * p.w, w = p.cOut * p.cIn * p.kh * p.kw, y = pool.n * pool.c * pool.h * pool.w;
  const out = p.n * p.cOut * hOut * wOut;
  const act: Activation = p.activation ?? 'none';
  return defineCase({
    name: `conv2dMaxPool ${label(p)}${withBias ? ' bias' : ''}${act === 'relu' ? ' relu' : ''}`,
    kernel: 'conv2dMaxPool',
    flops: 2 * y * conv.cIn * conv.kh * conv.kw + out * p.poolKh * p.poolKw,
    bytes: bytes(x, w, withBias ? p.cOut : 0, out),
    inputs: (rng) => ({ x: rng.floats(x), w: rng.floats(w), bias: rng.floats(withBias ? p.cOut : 0), out: rng.floats(out) }),
    outputs: ['out'],
    // the max of values each within the GEMM bound is within it too
    comparisons: { out: GEMM_COMPARISON },
    run: (be, b) => be.conv2dMaxPool(b.x, b.w, withBias ? b.bias : null, b.out, p),
  });
}

const conv = (n: number, cIn: number, cOut: number, h: number, w: number, k: number, stride: number, pad: number,
  pool: number, poolStride: number, activation: Activation): Conv2dMaxPoolParams =>
  ({ n, cIn, h, w, cOut, kh: k, kw: k, stride, pad, poolKh: pool, poolKw: pool, poolStride, activation });

export const conv2dMaxPoolShapes: readonly Conv2dMaxPoolParams[] = [
  conv(2, 1, 4, 28, 28, 3, 1, 1, 2, 2, 'relu'),
  conv(1, 1, 3, 9, 19, 3, 1, 0, 2, 2, 'none'),
  conv(5, 8, 16, 14, 14, 3, 1, 1, 2, 2, 'relu'),
  conv(1, 8, 9, 7, 5, 3, 1, 1, 2, 2, 'none'),
  conv(3, 8, 8, 10, 12, 3, 1, 2, 3, 2, 'relu'),
  conv(2, 3, 4, 9, 9, 3, 2, 1, 2, 1, 'none'),
  conv(1, 2, 3, 6, 6, 1, 1, 0, 3, 3, 'relu'),
];

export function conv2dMaxPoolCases(): KernelCase[] {
  return conv2dMaxPoolShapes.map((p, i) => conv2dMaxPoolCase(p, i % 3 !== 1));
}
