// The large GEMM and convolution shapes of blocking-cases.ts on the default and portable paths, vs ref.

import t from 'tap';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { checkCase } from '../../spec/kernels/run-case.ts';
import { blockingCases } from './blocking-cases.ts';

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
      for (const c of blockingCases()) {
        const check = await checkCase(cpu, ref, c);
        for (const r of check.results) t.ok(r.ok, `${c.name}: ${r.detail}`);
      }
    });
  }
}
