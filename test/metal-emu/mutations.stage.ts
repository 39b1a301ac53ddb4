// The emulator can fail: three planted bugs, each applied to a temporary copy of native/metal and
// built into a temporary folder (never in the tree; the main build's object cache is reused, so
// only the mutated kernels compile), must turn passing conformance cases into failures:
//   - a removed threadgroup_barrier (the one between the tile loads and the simdgroup_matrix math
//     in gemm_tile.h): SIMD groups read threadgroup memory other threads have not written yet;
//   - an off-by-one in threadgroup memory (batchnorm.metal's Welford partials written one slot
//     too far: the last slot lands past the array, the first stays NaN-poisoned);
//   - a wrong simdgroup_matrix tile offset (gemm_tile.h loads B's second 8×8 tile 4 columns left).
// Each first checks that the same cases pass on the unmutated build.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { createMetalEmuBackend } from '../../src/nn/backends/metal-emu/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { buildMetalEmu } from '../../scripts/metal-emu/build.mjs';
import { kernelCases, type KernelCase } from '../conformance/cases.ts';
import { checkCase } from '../conformance/run-case.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const metalEmu = emulatorGate('metal-emu');

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Mutation {
  name: string;
  file: string;
  from: string;
  to: string;
  cases: (c: KernelCase) => boolean;
}

const mutations: Mutation[] = [
  {
    name: 'a removed threadgroup_barrier in the simdgroup_matrix GEMM',
    file: 'gemm_tile.h',
    from: '    threadgroup_barrier(mem_flags::mem_threadgroup);\n    for (int ks = 0; ks < BK; ks += 8) {',
    to: '    for (int ks = 0; ks < BK; ks += 8) {',
    cases: (c) => c.kernel === 'matmul',
  },
  {
    name: 'an off-by-one in threadgroup memory (batchnorm statistics)',
    file: 'batchnorm.metal',
    from: 'if (tid % ink::kSimd == 0) parts[tid / ink::kSimd] = w;',
    to: 'if (tid % ink::kSimd == 0) parts[tid / ink::kSimd + 1] = w;',
    cases: (c) => c.kernel === 'batchNormTrain',
  },
  {
    name: 'a wrong simdgroup_matrix tile offset',
    file: 'gemm_tile.h',
    from: 'simdgroup_load(b[j], Bs + ks * BN + sc * 16 + j * 8, BN);',
    to: 'simdgroup_load(b[j], Bs + ks * BN + sc * 16 + j * 4, BN);',
    cases: (c) => c.kernel === 'matmul',
  },
];

/** Runs `cases` on `backend`: the names of those that fail or throw (with why). */
async function failures(backend: Backend, cases: KernelCase[]): Promise<string[]> {
  const ref = new RefBackend();
  const out: string[] = [];
  try {
    for (const c of cases) {
      try {
        const r = await checkCase(backend, ref, c);
        if (r.status !== 'pass') out.push(`${c.name}: ${r.status === 'unsupported' ? r.message : r.results.filter((x) => !x.ok).map((x) => x.detail).join('; ')}`);
      } catch (err) {
        out.push(`${c.name}: threw ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`);
      }
    }
  } finally {
    ref.dispose();
  }
  return out;
}

async function withAddon<T>(path: string | null, fn: (b: Backend) => Promise<T>): Promise<T> {
  const saved = process.env.INKLING_METAL_EMU_ADDON;
  if (path) process.env.INKLING_METAL_EMU_ADDON = path;
  try {
    const backend = await createMetalEmuBackend();
    try {
      return await fn(backend);
    } finally {
      backend.dispose();
    }
  } finally {
    if (saved === undefined) delete process.env.INKLING_METAL_EMU_ADDON;
    else process.env.INKLING_METAL_EMU_ADDON = saved;
  }
}

for (const m of mutations) {
  metalEmu.test(t, `mutation caught: ${m.name}`, async (t) => {
    const t0 = performance.now();
    const cases = kernelCases.filter(m.cases);
    t.ok(cases.length > 0, `${cases.length} cases exercise it`);
    t.same(await withAddon(null, (b) => failures(b, cases)), [], 'the unmutated build passes them');

    const dir = mkdtempSync(join(tmpdir(), 'inkling-metal-mutant-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const metalDir = join(dir, 'metal');
    cpSync(join(root, 'native', 'metal'), metalDir, { recursive: true });
    const target = join(metalDir, m.file);
    const source = readFileSync(target, 'utf8');
    t.equal(source.split(m.from).length - 1, 1, `the mutation applies to ${m.file} exactly once`);
    writeFileSync(target, source.replace(m.from, m.to));
    const addon = await buildMetalEmu({ metalDir, out: join(dir, 'build'), objDir: join(root, 'build-metal-emu', 'obj'), log: () => {} });
    const caught = await withAddon(addon, (b) => failures(b, cases));
    t.ok(caught.length > 0, `${caught.length} of ${cases.length} cases fail on the mutant`);
    t.comment(`first: ${caught[0] ?? 'none'}`);
    t.comment(`${m.name}: ${seconds(t0)}`);
  });
}
