// The whole conformance table on cuda-emu with the SIMT GEMM (fp32 FMA): the real native/cuda kernels
// on the SIMT emulator, against ref, with the fp32 tolerances every backend meets and guard regions
// around every buffer; once with blocks and threads in forward order, once in reverse order (a
// kernel whose results depend on the order has a race or a missing barrier). The seed CNN's own
// kernel shapes at batch 2 run too (fc1's split-K, conv2).
import t from 'tap';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { conformanceSuite } from '../conformance/backend-suite.ts';
import { kernelCases, seedCnnCases } from '../conformance/cases.ts';
import { emuTest, seconds } from './gate.ts';

for (const order of ['forward', 'reverse'] as const) {
  emuTest(t, `cuda-emu gemm simt, ${order} order: the conformance table matches ref`, async (t) => {
    const t0 = performance.now();
    process.env.INKLING_EMU_ORDER = order;
    const backend = await createCudaEmuBackend({ gemm: 'simt' });
    t.teardown(() => {
      backend.dispose();
      delete process.env.INKLING_EMU_ORDER;
      t.comment(`cuda-emu simt ${order}: ${seconds(t0)}`);
    });
    await conformanceSuite(t, backend, { label: `simt ${order}: `, cases: [...kernelCases, ...seedCnnCases(2)] });
  });
}
