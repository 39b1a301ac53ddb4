// With INKLING_CPU_CONV=im2col (read once per process, so set before the first convolution runs
// here) the shapes that normally take the Winograd path (test/conformance/cases-winograd.ts) run
// through im2col + GEMM instead, which must still match ref: both paths stay tested.

import t from 'tap';
process.env.INKLING_CPU_CONV = 'im2col';
const { createCpuBackend } = await import('../../src/nn/backends/cpu/index.ts');
const { runTableOn } = await import('./run-table.ts');
const { winogradCases } = await import('../../spec/kernels/cases-winograd.ts');

const cpu = await createCpuBackend().catch((err: unknown) => err as Error);

if (cpu instanceof Error) {
  t.test('im2col conv', { skip: `cpu backend unavailable: ${cpu.message}` }, async () => {});
} else {
  t.test('the im2col + GEMM convolution matches ref on the shapes Winograd otherwise takes', async (t) => {
    const names = new Set(winogradCases().map((c) => c.name));
    const n = await runTableOn(t, cpu, (c) => names.has(c.name));
    t.equal(n, names.size, `${n} convolution cases ran`);
    cpu.dispose();
  });
}
