// AVX-512 code under SIMDe emulation, not hardware.
//
// The AVX-512 kernel table (native/cpu/kernels_avx512.cc) compiled against SIMD Everywhere
// (scripts/build-simde-avx512.mjs) runs here on any x86-64 with AVX2: its GEMM tiles (12 x 32, every
// edge size, masked tails), packing and cache blocking (KC 192, MC 144), the 16-wide max pool with
// masked row tails, the fused batch norm + max pool and the zmm reductions are checked against
// ref on the whole conformance table, the large blocking shapes and the seed CNN's own shapes.
// What this cannot show: that the hardware path is fast, or that the real intrinsics behave as
// SIMDe's portable versions do (the native path runs in cpu-isa-paths.test.ts on a CPU with
// AVX-512, and is reported as skipped elsewhere). Run by `npm run test:avx512-simde` (a CI stage).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import type { KernelCase } from '../../spec/kernels/case-kit.ts';
import { maxPoolCase } from '../../spec/kernels/cases-norm-pool.ts';
import { batchNormMaxPoolBackwardCase, batchNormMaxPoolTrainCase } from '../../spec/kernels/cases-fused.ts';
import { kernelCases, seedCnnCases } from '../../spec/kernels/cases.ts';
import { checkCase } from '../../spec/kernels/run-case.ts';
import { blockingCases } from '../cpu/blocking-cases.ts';

const addonPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'cpu', 'simde', 'build', 'Release', 'inkling_cpu_simde.node');

/** Wide rows: 35 outputs per row = two full 16-lane vectors and a tail; small integers tie. */
function wideCases(): KernelCase[] {
  const cases: KernelCase[] = [
    maxPoolCase('wide ', { n: 1, c: 2, h: 6, w: 70, kh: 2, kw: 2, stride: 2 }, true),
    maxPoolCase('wide ', { n: 1, c: 2, h: 6, w: 70, kh: 2, kw: 2, stride: 2 }, false),
  ];
  const p = { n: 2, c: 3, h: 6, w: 70, kh: 2, kw: 2, stride: 2, eps: 1e-5, momentum: 0.1, activation: 'relu' as const };
  cases.push(batchNormMaxPoolTrainCase('wide ', p), batchNormMaxPoolBackwardCase('wide ', p, false));
  return cases;
}

t.test('AVX-512 code under SIMDe emulation, not hardware: the emulated table matches ref', async (t) => {
  if (!existsSync(addonPath)) {
    t.fail(`${addonPath} is missing: build it with \`node scripts/build-simde-avx512.mjs\` (needs libsimde-dev)`);
    return;
  }
  const cpu = await createCpuBackend({ isa: 'avx512', addonPath });
  const ref = new RefBackend();
  t.teardown(() => {
    cpu.dispose();
    ref.dispose();
  });
  t.equal(cpu.info.isa, 'avx512-simde', 'the addon runs the emulated AVX-512 table');
  t.match(cpu.device, /SIMDe emulation \(not hardware\)/, 'and says so');
  const groups: [string, readonly KernelCase[]][] = [
    ['conformance table', kernelCases],
    ['blocking and edge-tile shapes', blockingCases()],
    ['seed CNN shapes, batch 1 and 2', [...seedCnnCases(1), ...seedCnnCases(2)]],
    ['wide pooling rows', wideCases()],
  ];
  for (const [label, cases] of groups) {
    t.test(label, async (t) => {
      for (const c of cases) {
        const check = await checkCase(cpu, ref, c);
        for (const r of check.results) t.ok(r.ok, `${c.name}: ${r.detail}`);
      }
    });
  }
});

t.test('the emulated table is never picked automatically', async (t) => {
  if (!existsSync(addonPath)) {
    t.fail(`${addonPath} is missing`);
    return;
  }
  const auto = await createCpuBackend({ addonPath });
  t.not(auto.info.isa, 'avx512-simde', `auto picked ${auto.info.isa}`);
  auto.dispose();
});
