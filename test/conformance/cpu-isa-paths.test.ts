// The conformance table on every kernel table of the cpu backend, forced one at a time
// (INKLING_CPU_ISA's values): AVX-512, AVX2+FMA and portable. conformance.test.ts runs whichever
// one `auto` picks; this file makes sure the others stay correct too. A table this machine cannot
// run (no AVX-512 here, say) is reported as SKIPPED with the reason from CPUID / XGETBV — never as
// a pass. (The AVX-512 table's logic also runs, emulated, in the avx512-simde CI stage:
// test/avx512-simde/.)

import t from 'tap';
import { createCpuBackend, loadCpuAddon, type CpuIsa } from '../../src/nn/backends/cpu/index.ts';
import { runTableOn } from '../cpu/run-table.ts';

const addon = (() => {
  try {
    return loadCpuAddon();
  } catch (err) {
    return err as Error;
  }
})();

const paths: { isa: Exclude<CpuIsa, 'auto' | 'neon'>; device: RegExp }[] = [
  { isa: 'avx512', device: /AVX-512 kernels/ },
  { isa: 'avx2', device: /AVX2\+FMA kernels/ },
  { isa: 'portable', device: /portable kernels/ },
];

for (const { isa, device } of paths) {
  const name = `cpu backend, ${isa} kernel table, matches ref on the conformance table`;
  if (addon instanceof Error) {
    t.test(name, { skip: `cpu backend unavailable: ${addon.message}` }, async () => {});
    continue;
  }
  const why = isa === 'portable' ? '' : addon.isaAvailability()[isa];
  if (why !== '') {
    t.test(name, { skip: `${isa} cannot run on this machine: ${why}` }, async () => {});
    continue;
  }
  t.test(name, async (t) => {
    const cpu = await createCpuBackend({ isa });
    t.match(cpu.device, device, 'the device string names the path');
    const n = await runTableOn(t, cpu);
    t.ok(n > 100, `${n} cases ran`);
    t.same(cpu.stats(), { buffers: 0, bytes: 0 }, 'every case freed its buffers');
    cpu.dispose();
  });
}
