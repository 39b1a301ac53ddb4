// The implicit-GEMM convolution (native/cpu/impl/conv_implicit.h; INKLING_CPU_CONV=implicit, read
// once per process, so it is set before the first convolution runs here) matches ref on every
// convolution case of the conformance table.

import t from 'tap';
process.env.INKLING_CPU_CONV = 'implicit';
const { createCpuBackend } = await import('../../src/nn/backends/cpu/index.ts');
const { runTableOn } = await import('./run-table.ts');

const cpu = await createCpuBackend().catch((err: unknown) => err as Error);

if (cpu instanceof Error) {
  t.test('implicit conv', { skip: `cpu backend unavailable: ${cpu.message}` }, async () => {});
} else {
  t.test('the implicit-GEMM convolution matches ref (forward and backward to the input)', async (t) => {
    const n = await runTableOn(t, cpu, (c) => c.kernel === 'conv2d' || c.kernel === 'conv2dBackwardInput');
    t.ok(n >= 10, `${n} convolution cases ran`);
    cpu.dispose();
  });
}
