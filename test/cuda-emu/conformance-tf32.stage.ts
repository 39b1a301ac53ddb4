// The whole conformance table on cuda-emu with the TF32 tensor-core GEMM (the mma.sync twin): the
// real native/cuda kernels on the SIMT emulator, against ref, with guard regions around every
// buffer; matmul and the three convolutions within the TF32 bound stated in
// test/conformance/cases-dense.ts (2^-11 relative per rounded operand, so 2·2^-11 per product,
// times Σ|a·b|), every other kernel within its fp32 tolerance. Once with blocks and threads in
// forward order, once in reverse order (a kernel whose results depend on the order has a race or a
// missing barrier). The seed CNN's own kernel shapes at batch 2 run too (fc1's split-K, conv2).
import t from 'tap';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { conformanceSuite } from '../conformance/backend-suite.ts';
import { kernelCases, seedCnnCases } from '../conformance/cases.ts';
import { emuTest, seconds } from './gate.ts';

for (const order of ['forward', 'reverse'] as const) {
  emuTest(t, `cuda-emu gemm tf32, ${order} order: the conformance table matches ref`, async (t) => {
    const t0 = performance.now();
    process.env.INKLING_EMU_ORDER = order;
    const backend = await createCudaEmuBackend({ gemm: 'tf32' });
    t.teardown(() => {
      backend.dispose();
      delete process.env.INKLING_EMU_ORDER;
      t.comment(`cuda-emu tf32 ${order}: ${seconds(t0)}`);
    });
    await conformanceSuite(t, backend, { label: `tf32 ${order}: `, cases: [...kernelCases, ...seedCnnCases(2)] });
  });
}
