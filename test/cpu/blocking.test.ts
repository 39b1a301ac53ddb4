// Shapes big enough to reach every blocking path of the cpu GEMM and convolution, which the
// conformance table's small cases do not: several MC (96-row) blocks, N beyond one NC (256-column)
// block, K split into blocks (> 384), the multi-threaded path with B packed in parallel, the
// few-rows path (m <= 4), ReLU with accumulate (computed aside), edge tiles in every direction, and
// convolutions whose K = cIn·kh·kw exceeds one K block, at stride 1 and 2, with uneven image groups.

import t from 'tap';
import type { Activation, Conv2dParams, MatmulParams } from '../../src/nn/backend.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import type { KernelCase } from '../../spec/kernels/case-kit.ts';
import { conv2dBackwardInputCase, conv2dBackwardWeightCase, conv2dForwardCase, matmulCase } from '../../spec/kernels/cases-dense.ts';
import { checkCase } from '../../spec/kernels/run-case.ts';

function cases(): KernelCase[] {
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

const backends = await Promise.all([createCpuBackend(), createCpuBackend({ isa: 'portable', threads: 1 })])
  .catch((err: unknown) => err as Error);

if (backends instanceof Error) {
  t.test('blocking paths', { skip: `cpu backend unavailable: ${backends.message}` }, async () => {});
} else {
  const ref = new RefBackend();
  t.teardown(() => {
    backends.forEach((b) => b.dispose());
    ref.dispose();
  });
  for (const cpu of backends) {
    t.test(`${cpu.device}: large GEMMs and convolutions match ref`, async (t) => {
      for (const c of cases()) {
        const check = await checkCase(cpu, ref, c);
        for (const r of check.results) t.ok(r.ok, `${c.name}: ${r.detail}`);
      }
    });
  }
}
