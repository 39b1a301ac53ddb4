// The whole conformance table on metal-emu: the real native/metal kernels (simdgroup_matrix GEMM
// included) compiled as C++ and run on the SIMT emulator, through the same launchers, N-API surface
// and TypeScript as the Mac's metal backend, against ref with the fp32 tolerances every backend
// meets. Once with groups and threads in forward order, once in reverse order: a kernel whose
// result depends on the order has a race or a missing barrier. Barrier divergence, SIMD-group
// collectives whose lanes disagree, reads of unwritten threadgroup memory (NaN poison) and writes
// past a buffer (guard zones) fail the case that caused them, naming the kernel. Last, the first
// case of every kernel in the emulator's OS-thread mode.
import t from 'tap';
import { createMetalEmuBackend } from '../../src/nn/backends/metal-emu/index.ts';
import { conformanceSuite } from '../conformance/backend-suite.ts';
import { kernelCases } from '../conformance/cases.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const metalEmu = emulatorGate('metal-emu');

for (const order of ['forward', 'reverse'] as const) {
  metalEmu.test(t, `metal-emu, ${order} order: the conformance table matches ref`, async (t) => {
    const t0 = performance.now();
    process.env.INKLING_EMU_ORDER = order;
    const backend = await createMetalEmuBackend();
    t.teardown(() => {
      backend.dispose();
      delete process.env.INKLING_EMU_ORDER;
      t.comment(`metal-emu ${order}: ${seconds(t0)}`);
    });
    await conformanceSuite(t, backend, { label: `${order}: ` });
  });
}

// The emulator's OS-thread mode (one OS thread per Metal thread, barriers and SIMD-group collectives
// across real threads: the mode ThreadSanitizer needs) on the first case of every kernel.
const firstOfEach = kernelCases.filter((c, i) => kernelCases.findIndex((d) => d.kernel === c.kernel) === i);
metalEmu.test(t, `metal-emu, OS-thread mode: the first case of each of the ${firstOfEach.length} kernels matches ref`, async (t) => {
  const t0 = performance.now();
  process.env.INKLING_EMU_MODE = 'threads';
  const backend = await createMetalEmuBackend();
  t.teardown(() => {
    backend.dispose();
    delete process.env.INKLING_EMU_MODE;
    t.comment(`metal-emu threads: ${seconds(t0)}`);
  });
  await conformanceSuite(t, backend, { label: 'threads: ', cases: firstOfEach });
});
