// Mutation tests: the emulator stage must be able to fail. Each mutation is applied to a copy of
// native/ in a temporary folder and built there (scripts/cuda-emu/build.mjs reads the tree's cached
// objects for the units it did not change and writes nothing into the tree); the conformance cases
// of the mutated kernel then run on that build in a child process (run-cases.ts). Every mutation
// must turn cases that pass on the real build into failures, or into an error the emulator reports
// naming the kernel:
//   (a) the tiled GEMM loses the __syncthreads() that ends each k-tile (a double-buffering race);
//   (b) a shared-memory index in the GEMM's tile store shifts by one;
//   (c) the mma.sync twin swaps two A-fragment registers (a1, a2);
//   (d) channelSum reads one element past its input (loop bound j <= end);
//   (e) axpy writes one element past its output (caught by the guard regions).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildCudaEmuAddon, emuBuildDir, repoRoot } from '../../scripts/cuda-emu/build.mjs';
import { cudaEmuAddonPath } from '../../src/nn/backends/cuda/native.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

interface CaseLine {
  name: string;
  status: 'pass' | 'fail' | 'error';
  detail: string;
}

function runCases(addon: string, filter: string, gemm: 'simt' | 'tf32'): CaseLine[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/cuda-emu/run-cases.ts'), '--filter', filter, '--gemm', gemm], {
    cwd: repoRoot, encoding: 'utf8', env: { ...process.env, INKLING_CUDA_EMU_ADDON: addon }, maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`run-cases exited with ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as CaseLine);
}

interface Mutation {
  id: string;
  what: string;
  file: string;
  from: string;
  to: string;
  /** Units that include the mutated file, which must be recompiled. */
  recompiles: string[];
  filter: string;
  gemm: 'simt' | 'tf32';
  /** What the failing cases' details must mention. */
  expect: RegExp;
}

const mutations: Mutation[] = [
  {
    id: 'a', what: 'remove the __syncthreads() that ends each k-tile of the SIMT GEMM', file: 'native/cuda/gemm_tile.cuh',
    from: '      if (t + 1 < numTiles) storeTile(cur ^ 1);\n      __syncthreads();\n    }\n#pragma unroll\n    for (int i = 0; i < 8; i++)',
    to: '      if (t + 1 < numTiles) storeTile(cur ^ 1);\n    }\n#pragma unroll\n    for (int i = 0; i < 8; i++)',
    recompiles: ['native/cuda/conv.cu', 'native/cuda/gemm.cu'], filter: '^matmul ', gemm: 'simt', expect: /normalized max error|element \d+ is NaN/,
  },
  {
    id: 'b', what: 'shift the shared-memory index of the GEMM\'s A-tile store by one', file: 'native/cuda/gemm_tile.cuh',
    from: '      As[buf][k][m] = TF32 ? roundToTf32(ra[i]) : ra[i];', to: '      As[buf][k][m + 1] = TF32 ? roundToTf32(ra[i]) : ra[i];',
    recompiles: ['native/cuda/conv.cu', 'native/cuda/gemm.cu'], filter: '^matmul ', gemm: 'simt', expect: /normalized max error|NaN/,
  },
  {
    id: 'c', what: 'swap the a1 and a2 A-fragment registers in the mma.sync twin', file: 'native/cuda/gemm_tile.cuh',
    from: '    A[g + 8][t] = tf32(all[lane].a[1]);\n    A[g][t + 4] = tf32(all[lane].a[2]);',
    to: '    A[g + 8][t] = tf32(all[lane].a[2]);\n    A[g][t + 4] = tf32(all[lane].a[1]);',
    recompiles: ['native/cuda/conv.cu', 'native/cuda/gemm.cu'], filter: '^matmul ', gemm: 'tf32', expect: /TF32 error/,
  },
  {
    id: 'd', what: 'channelSum reads one element past its input (j <= end)', file: 'native/cuda/reduce.cu',
    from: 'for (long long j = begin + threadIdx.x; j < end; j += blockDim.x) {', to: 'for (long long j = begin + threadIdx.x; j <= end; j += blockDim.x) {',
    recompiles: ['native/cuda/reduce.cu'], filter: '^channelSum ', gemm: 'simt', expect: /NaN|normalized max error/,
  },
  {
    id: 'e', what: 'axpy writes one element past its output (GRID_STRIDE_LOOP over n + 1)', file: 'native/cuda/elementwise.cu',
    from: '  GRID_STRIDE_LOOP(i, n) y[i] += alpha * x[i];', to: '  GRID_STRIDE_LOOP(i, n + 1) y[i] += alpha * x[i];',
    recompiles: ['native/cuda/elementwise.cu'], filter: '^axpy ', gemm: 'simt', expect: /y: 1 element written past its end/,
  },
];

function objects(): string[] {
  const dir = join(emuBuildDir, 'obj');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

for (const m of mutations) {
  cudaEmu.test(t, `mutation (${m.id}): ${m.what} — caught`, async (t) => {
    const t0 = performance.now();
    const work = mkdtempSync(join(tmpdir(), `inkling-mutation-${m.id}-`));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    cpSync(join(repoRoot, 'native'), join(work, 'native'), { recursive: true });
    const path = join(work, m.file);
    const source = readFileSync(path, 'utf8');
    t.equal(source.split(m.from).length, 2, `the text to mutate occurs exactly once in ${m.file}`);
    writeFileSync(path, source.replace(m.from, m.to));
    const treeObjects = objects();
    const build = await buildCudaEmuAddon({ root: work, outDir: join(work, 'build'), readCaches: [join(emuBuildDir, 'obj')] });
    t.ok(build.ok, `the mutated copy builds in ${work}`);
    if (!build.ok) {
      t.comment(build.log);
      return;
    }
    // The units that include the mutated file are recompiled; the rest come from the tree's cache
    // (a unit whose tree object is stale is recompiled too, into the temporary folder).
    t.ok(m.recompiles.every((u) => build.compiled.includes(u)), `recompiled in the temporary folder: ${build.compiled.join(', ')}; reused from the tree: ${build.reused.length} units`);
    t.same(objects(), treeObjects, 'nothing was written into the tree\'s build');
    const real = runCases(cudaEmuAddonPath(), m.filter, m.gemm);
    const mutated = runCases(build.output, m.filter, m.gemm);
    t.ok(real.length > 0 && real.every((c) => c.status === 'pass'), `the real build passes all ${real.length} ${m.filter} cases (${m.gemm})`);
    const caught = mutated.filter((c) => c.status !== 'pass');
    t.ok(caught.length > 0, `the mutation fails ${caught.length} of ${mutated.length} cases`);
    for (const c of caught.slice(0, 3)) t.match(c.detail, m.expect, `${c.name}: ${c.status}: ${c.detail.slice(0, 300)}`);
    t.comment(`mutation (${m.id}): ${caught.length}/${mutated.length} cases caught; ${seconds(t0)}`);
  });
}
