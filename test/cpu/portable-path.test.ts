// The portable kernel table (what CPUs without AVX2+FMA run, and arm64) passes the whole
// conformance table, like the default path does in test/conformance.

import t from 'tap';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { runTableOn } from './run-table.ts';

const cpu = await createCpuBackend({ isa: 'portable' }).catch((err: unknown) => err as Error);

if (cpu instanceof Error) {
  t.test('portable path', { skip: `cpu backend unavailable: ${cpu.message}` }, async () => {});
} else {
  t.test('the portable kernels match ref on the conformance table', async (t) => {
    t.match(cpu.device, /portable kernels/, 'the device string names the path');
    const n = await runTableOn(t, cpu);
    t.ok(n > 100, `${n} cases ran`);
    t.same(cpu.stats(), { buffers: 0, bytes: 0 }, 'every case freed its buffers');
    cpu.dispose();
  });
}
