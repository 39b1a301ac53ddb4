// Shapes big enough to reach every blocking path of the cpu GEMM and convolution, which the
// conformance table's small cases do not (shared by test/cpu/blocking.test.ts and the emulated
// AVX-512 stage): several MC row blocks (96 rows on AVX2, 144 on AVX-512), N beyond one NC
// (256-column) block, K split into blocks (> 384 on AVX2 and AVX-512), the multi-threaded
// path with B packed in parallel, the few-rows path (m <= 4), ReLU with accumulate (computed
// aside), edge tiles in every direction (every row count of a 6- or 12-row tile, partial vectors),
// and convolutions whose K = cIn·kh·kw exceeds one K block, at stride 1 and 2, with uneven image
// groups.

import type { Activation, Conv2dParams, MatmulParams } from '../../src/nn/backend.ts';
import type { KernelCase } from '../../spec/kernels/case-kit.ts';
import { conv2dBackwardInputCase, conv2dBackwardWeightCase, conv2dForwardCase, matmulCase } from '../../spec/kernels/cases-dense.ts';

export function blockingCases(): KernelCase[] {
  const out: KernelCase[] = [];
  const shapes = [
    { m: 200, n: 300, k: 450 },
    { m: 3, n: 700, k: 500 },
    { m: 130, n: 5, k: 1000 },
    { m: 97, n: 257, k: 385 },
  ];
  let i = 0;
  for (const s of shapes)
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const activation: Activation = i % 2 === 0 ? 'relu' : 'none';
        const p: MatmulParams = { ...s, transA, transB, accumulate: i % 3 === 0, activation };
        out.push(matmulCase('blocking ', p, i % 4 !== 1));
        i++;
      }
  // Every edge-tile size: m = 13..24 leaves 1..12 rows in the last tile of 12 (AVX-512) and 1..6
  // of 6 (AVX2); n = 40, 50, 33 leave a partial last vector after one or two full ones.
  for (let m = 13; m <= 24; m++) {
    const n = [40, 50, 33][m % 3]!;
    const activation: Activation = m % 2 === 0 ? 'relu' : 'none';
    out.push(matmulCase('edge tiles ', { m, n, k: 9, transA: m % 4 === 1, transB: m % 4 === 2, accumulate: m % 5 === 0, activation }, m % 3 !== 1));
  }
  const convs: Conv2dParams[] = [
    { n: 2, cIn: 48, h: 9, w: 9, cOut: 20, kh: 3, kw: 3, stride: 1, pad: 1 },
    { n: 3, cIn: 20, h: 11, w: 10, cOut: 7, kh: 5, kw: 5, stride: 2, pad: 2 },
    { n: 1, cIn: 3, h: 30, w: 30, cOut: 100, kh: 3, kw: 3, stride: 1, pad: 0 },
    { n: 11, cIn: 4, h: 6, w: 7, cOut: 9, kh: 3, kw: 3, stride: 1, pad: 2 },
  ];
  for (const p of convs) {
    out.push(conv2dForwardCase('blocking ', p, true, 'relu'));
    out.push(conv2dBackwardInputCase('blocking ', p, true));
    out.push(conv2dBackwardWeightCase('blocking ', p, true, false));
    out.push(conv2dBackwardWeightCase('blocking ', p, false, true));
  }
  return out;
}

