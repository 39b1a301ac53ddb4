// What a user sees when the addon is not built, and the ISA and thread options.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createCpuBackend, loadCpuAddon } from '../../src/nn/backends/cpu/index.ts';
import { createBackend } from '../../src/nn/backends/registry.ts';

// Probed before any test changes INKLING_CPU_ADDON.
const available = await createCpuBackend().then((b) => { b.dispose(); return true; }, () => false);

t.test('a missing addon gives an error naming the fix', async (t) => {
  const saved = process.env.INKLING_CPU_ADDON;
  process.env.INKLING_CPU_ADDON = '/nonexistent/inkling_cpu.node';
  t.teardown(() => {
    if (saved === undefined) delete process.env.INKLING_CPU_ADDON;
    else process.env.INKLING_CPU_ADDON = saved;
  });
  await t.rejects(createCpuBackend(), /native addon is missing.*npm run build:cpu.*g\+\+.*python3/);
  await t.rejects(createBackend('cpu'), /backend "cpu".*npm run build:cpu|npm run build:cpu/);
});

t.test('a broken addon file gives an error naming the fix', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-cpu-'));
  const bogus = join(dir, 'inkling_cpu.node');
  writeFileSync(bogus, 'not a shared library');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.throws(() => loadCpuAddon(bogus), /failed to load.*npm run build:cpu/s);
});


t.test('ISA selection', { skip: available ? false : 'cpu addon not built' }, async (t) => {
  const portable = await createCpuBackend({ isa: 'portable' });
  t.equal(portable.info.isa, 'portable');
  t.match(portable.device, /portable kernels/);
  portable.dispose();

  const why = loadCpuAddon().isaAvailability();
  const auto = await createCpuBackend();
  const arm64 = process.arch === 'arm64';
  const widest = arm64 ? 'neon' : why.avx512 === '' ? 'avx512' : why.avx2 === '' ? 'avx2' : 'portable';
  t.equal(auto.info.isa, widest, `auto picks the widest table this machine runs (${widest})`);
  auto.dispose();
  if (arm64) {
    const neon = await createCpuBackend({ isa: 'neon' });
    t.match(neon.device, /NEON kernels/);
    neon.dispose();
  } else {
    await t.rejects(createCpuBackend({ isa: 'neon' }), /INKLING_CPU_ISA=neon .* is not AArch64/);
  }
  for (const [isa, reason, device] of [['avx2', why.avx2, /AVX2\+FMA kernels/], ['avx512', why.avx512, /AVX-512 kernels/]] as const) {
    if (reason === '') {
      const b = await createCpuBackend({ isa });
      t.match(b.device, device, `${isa} runs here`);
      b.dispose();
    } else {
      // forcing a path the CPU (or OS) cannot run is an error naming why and the fix
      await t.rejects(createCpuBackend({ isa }), new RegExp(`INKLING_CPU_ISA=${isa}.*${reason.replace(/[()]/g, '\\$&')}.*unset INKLING_CPU_ISA`));
    }
  }

  await t.rejects(createCpuBackend({ isa: 'sse9' as 'avx2' }), /INKLING_CPU_ISA must be auto, avx512, avx2, neon or portable/);

  const saved = process.env.INKLING_CPU_ISA;
  process.env.INKLING_CPU_ISA = 'portable';
  const fromEnv = await createCpuBackend();
  t.equal(fromEnv.info.isa, 'portable', 'INKLING_CPU_ISA is honoured');
  fromEnv.dispose();
  if (saved === undefined) delete process.env.INKLING_CPU_ISA;
  else process.env.INKLING_CPU_ISA = saved;
});

t.test('thread count: option, INKLING_THREADS, bad values', { skip: available ? false : 'cpu addon not built' }, async (t) => {
  const three = await createCpuBackend({ threads: 3 });
  t.equal(three.info.threads, 3);
  three.dispose();
  const saved = process.env.INKLING_THREADS;
  process.env.INKLING_THREADS = '1';
  const one = await createCpuBackend();
  t.equal(one.info.threads, 1, 'INKLING_THREADS overrides the core count');
  one.dispose();
  process.env.INKLING_THREADS = 'many';
  await t.rejects(createCpuBackend(), /INKLING_THREADS must be a positive integer/);
  if (saved === undefined) delete process.env.INKLING_THREADS;
  else process.env.INKLING_THREADS = saved;
  await t.rejects(createCpuBackend({ threads: 0 }), /threads must be a positive integer/);
});
