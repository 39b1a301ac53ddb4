// Conformance cases for matmul and conv2d (forward and both backward kernels).

import { convOutputSize, type Activation, type Conv2dParams, type MatmulParams } from '../../src/nn/backend.ts';
import { bytes, defineCase, DEFAULT_TOLERANCE, type Comparison, type KernelCase } from './case-kit.ts';

/** Every GEMM result (matmul, the three convolution passes) under a backend whose GEMM rounds to
 *  TF32 (cuda with gemm 'tf32'): cvt.rna rounds each operand to TF32, a relative error of at most
 *  2^-11 (half an ulp of TF32's 10-bit mantissa); a product of two rounded operands is then off by
 *  at most 2·2^-11 + 2^-22 relative, and a sum of K such products by that times Σ_k|a_k·b_k|. The
 *  fp32 tolerance covers the fp32 accumulation on top. On fp32 backends the fp32 tolerance alone
 *  applies. The emulator's tensor-core twin accumulates in fp32 in k order; the hardware's internal
 *  order and rounding are unspecified, and the bound does not depend on them. */
export const TF32_PER_PRODUCT = 2 * 2 ** -11 + 2 ** -22;
export const GEMM_COMPARISON: Comparison = { tolerance: DEFAULT_TOLERANCE, tf32PerProduct: TF32_PER_PRODUCT };

export interface MatmulShape {
  m: number;
  n: number;
  k: number;
}

export function matmulCase(
  label: string, p: MatmulParams, withBias: boolean,
): KernelCase {
  const { m, n, k } = p;
  const acc = p.accumulate ?? false;
  const act = p.activation ?? 'none';
  const name =
    `matmul ${label}m${m} n${n} k${k} ${p.transA ? 'At' : 'A'}${p.transB ? 'Bt' : 'B'}` +
    `${withBias ? ' bias' : ''}${act === 'relu' ? ' relu' : ''}${acc ? ' acc' : ''}`;
  return defineCase({
    name,
    kernel: 'matmul',
    flops: 2 * m * n * k + (withBias ? m * n : 0),
    bytes: bytes(m * k, k * n, withBias ? n : 0, acc ? 2 * m * n : m * n),
    inputs: (rng) => ({ a: rng.floats(m * k), b: rng.floats(k * n), bias: rng.floats(withBias ? n : 0), out: rng.floats(m * n) }),
    outputs: ['out'],
    comparisons: { out: GEMM_COMPARISON },
    run: (be, b) => be.matmul(b.a, b.b, withBias ? b.bias : null, b.out, p),
  });
}

export function matmulCases(): KernelCase[] {
  const shapes: MatmulShape[] = [
    { m: 3, n: 5, k: 7 },
    { m: 1, n: 10, k: 13 },
    { m: 17, n: 9, k: 33 },
  ];
  const cases: KernelCase[] = [];
  let i = 0;
  for (const transA of [false, true])
    for (const transB of [false, true])
      for (const s of shapes) {
        const accumulate = i % 2 === 1;
        const activation: Activation = i % 3 === 0 ? 'relu' : 'none';
        cases.push(matmulCase('', { ...s, transA, transB, accumulate, activation }, i % 4 !== 3));
        i++;
      }
  return cases;
}

export function convLabel(p: Conv2dParams): string {
  return `n${p.n} c${p.cIn}>${p.cOut} ${p.h}x${p.w} k${p.kh}${p.kw !== p.kh ? `x${p.kw}` : ''} s${p.stride} p${p.pad}`;
}

/** Multiply-adds of one convolution (every pass has the same count, ignoring padding taps). */
function convMacs(p: Conv2dParams): number {
  const { hOut, wOut } = convOutputSize(p);
  return p.n * p.cOut * hOut * wOut * p.cIn * p.kh * p.kw;
}

function convCounts(p: Conv2dParams): { x: number; w: number; y: number } {
  const { hOut, wOut } = convOutputSize(p);
  return { x: p.n * p.cIn * p.h * p.w, w: p.cOut * p.cIn * p.kh * p.kw, y: p.n * p.cOut * hOut * wOut };
}

export function conv2dForwardCase(label: string, p: Conv2dParams, withBias: boolean, activation: Activation): KernelCase {
  const c = convCounts(p);
  return defineCase({
    name: `conv2d ${label}${convLabel(p)}${withBias ? ' bias' : ''}${activation === 'relu' ? ' relu' : ''}`,
    kernel: 'conv2d',
    flops: 2 * convMacs(p),
    bytes: bytes(c.x, c.w, withBias ? p.cOut : 0, c.y),
    inputs: (rng) => ({ x: rng.floats(c.x), w: rng.floats(c.w), bias: rng.floats(withBias ? p.cOut : 0), out: rng.floats(c.y) }),
    outputs: ['out'],
    comparisons: { out: GEMM_COMPARISON },
    run: (be, b) => be.conv2d(b.x, b.w, withBias ? b.bias : null, b.out, { ...p, activation }),
  });
}

export function conv2dBackwardInputCase(label: string, p: Conv2dParams, accumulate: boolean): KernelCase {
  const c = convCounts(p);
  return defineCase({
    name: `conv2dBackwardInput ${label}${convLabel(p)}${accumulate ? ' acc' : ''}`,
    kernel: 'conv2dBackwardInput',
    flops: 2 * convMacs(p),
    bytes: bytes(c.y, c.w, accumulate ? 2 * c.x : c.x),
    inputs: (rng) => ({ dy: rng.floats(c.y), w: rng.floats(c.w), dx: rng.floats(c.x) }),
    outputs: ['dx'],
    comparisons: { dx: GEMM_COMPARISON },
    run: (be, b) => be.conv2dBackwardInput(b.dy, b.w, b.dx, p, accumulate),
  });
}

export function conv2dBackwardWeightCase(label: string, p: Conv2dParams, withBias: boolean, accumulate: boolean): KernelCase {
  const c = convCounts(p);
  const rw = accumulate ? 2 : 1;
  return defineCase({
    name: `conv2dBackwardWeight ${label}${convLabel(p)}${withBias ? ' db' : ''}${accumulate ? ' acc' : ''}`,
    kernel: 'conv2dBackwardWeight',
    flops: 2 * convMacs(p) + (withBias ? c.y : 0),
    bytes: bytes(c.x, c.y, rw * c.w, withBias ? rw * p.cOut : 0),
    inputs: (rng) => ({ x: rng.floats(c.x), dy: rng.floats(c.y), dw: rng.floats(c.w), db: rng.floats(withBias ? p.cOut : 0) }),
    outputs: withBias ? ['dw', 'db'] : ['dw'],
    comparisons: { dw: GEMM_COMPARISON },  // db is a plain channel sum (fp32 on every backend)
    run: (be, b) => be.conv2dBackwardWeight(b.x, b.dy, b.dw, withBias ? b.db : null, p, accumulate),
  });
}

/** Odd shapes: batch 1, 3x5 images, 7 channels, kernels 1..5, stride 1 and 2, pad 0..2. */
export const convShapes: readonly Conv2dParams[] = [
  { n: 1, cIn: 1, h: 3, w: 5, cOut: 2, kh: 3, kw: 3, stride: 1, pad: 1 },
  { n: 2, cIn: 3, h: 7, w: 7, cOut: 7, kh: 3, kw: 3, stride: 2, pad: 1 },
  { n: 2, cIn: 7, h: 5, w: 5, cOut: 3, kh: 5, kw: 5, stride: 1, pad: 2 },
  { n: 1, cIn: 2, h: 6, w: 6, cOut: 3, kh: 1, kw: 1, stride: 1, pad: 0 },
  { n: 2, cIn: 3, h: 8, w: 8, cOut: 4, kh: 2, kw: 2, stride: 2, pad: 0 },
  { n: 1, cIn: 4, h: 9, w: 7, cOut: 5, kh: 4, kw: 4, stride: 1, pad: 1 },
  { n: 2, cIn: 2, h: 11, w: 11, cOut: 3, kh: 5, kw: 5, stride: 2, pad: 2 },
  { n: 2, cIn: 3, h: 5, w: 3, cOut: 2, kh: 3, kw: 3, stride: 2, pad: 0 },
  { n: 3, cIn: 1, h: 28, w: 28, cOut: 4, kh: 3, kw: 3, stride: 1, pad: 1 },
  { n: 2, cIn: 8, h: 14, w: 14, cOut: 16, kh: 3, kw: 3, stride: 1, pad: 1 },
  // One input channel, 3x3, stride 1 (the cpu backend's direct kernels): more images than its 8
  // weight-gradient groups, rows ending in a 1-lane vector, pad 0 and 2.
  { n: 10, cIn: 1, h: 9, w: 19, cOut: 5, kh: 3, kw: 3, stride: 1, pad: 0 },
  { n: 1, cIn: 1, h: 6, w: 11, cOut: 3, kh: 3, kw: 3, stride: 1, pad: 2 },
];

export function convCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  convShapes.forEach((p, i) => {
    cases.push(conv2dForwardCase('', p, i % 3 !== 2, i % 2 === 1 ? 'relu' : 'none'));
    cases.push(conv2dBackwardInputCase('', p, i % 2 === 0));
    cases.push(conv2dBackwardWeightCase('', p, i % 3 !== 1, i % 2 === 1));
  });
  return cases;
}
