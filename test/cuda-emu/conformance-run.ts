// The body of the two conformance stage files (one per GEMM variant, so that tap runs them in
// parallel): the whole table plus the seed CNN's kernels at batch 2 on cuda-emu, with blocks and
// threads in forward order, then in reverse order.
import t from 'tap';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import type { GemmVariantName } from '../../src/nn/backends/cuda/params.ts';
import { conformanceSuite } from '../conformance/backend-suite.ts';
import { kernelCases, seedCnnCases } from '../conformance/cases.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

export function emuConformance(gemm: GemmVariantName): void {
  for (const order of ['forward', 'reverse'] as const) {
    cudaEmu.test(t, `cuda-emu gemm ${gemm}, ${order} order: the conformance table matches ref`, async (t) => {
      const t0 = performance.now();
      process.env.INKLING_EMU_ORDER = order;  // the emulator reads it at every launch
      const backend = await createCudaEmuBackend({ gemm });
      t.teardown(() => {
        backend.dispose();
        delete process.env.INKLING_EMU_ORDER;
        t.comment(`cuda-emu ${gemm} ${order}: ${seconds(t0)}`);
      });
      await conformanceSuite(t, backend, { label: `${gemm} ${order}: `, cases: [...kernelCases, ...seedCnnCases(2)] });
    });
  }
}
