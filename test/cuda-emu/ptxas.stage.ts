// What only the real toolchain can tell without a GPU: nvcc compiles the GEMM and convolution
// sources for sm_80 and sm_90, ptxas -v reports no local memory (no stack frame, no spill stores or
// loads) for any of their kernels, and the PTX of every TF32 instantiation holds the inline
// mma.sync.aligned.m16n8k8 ... tf32 and cvt.rna.tf32.f32 instructions while the SIMT ones hold none
// (ptxas also rejects a malformed asm string: the emulator only runs the C++ twins). Skips, saying
// so, where nvcc is not installed (CI has it).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot } from '../../scripts/cuda-emu/build.mjs';
import { seconds } from '../support/emulator-gate.ts';

const nvcc = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' }).stdout.trim();

function compile(unit: string, dir: string): Promise<{ code: number | null; log: string }> {
  const args = [
    '-O3', '-std=c++17', '--expt-relaxed-constexpr', '-gencode', 'arch=compute_80,code=sm_80', '-gencode', 'arch=compute_90,code=sm_90',
    '-Xptxas', '-v', '-keep', '-keep-dir', dir, '-Inative/cuda', '-c', unit, '-o', join(dir, `${unit.split('/').pop()}.o`),
  ];
  return new Promise((resolve) => {
    const child = spawn(nvcc, args, { cwd: repoRoot });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('close', (code) => resolve({ code, log }));
  });
}

interface EntryReport {
  name: string;
  arch: string;
  stack: number;
  spillStores: number;
  spillLoads: number;
}

/** ptxas -v: "Compiling entry function 'X' for 'sm_90'" then "N bytes stack frame, N bytes spill stores, N bytes spill loads". */
function parsePtxas(log: string): EntryReport[] {
  const out: EntryReport[] = [];
  let current: { name: string; arch: string } | null = null;
  for (const line of log.split('\n')) {
    const entry = /Compiling entry function '([^']+)' for '(sm_\d+)'/.exec(line);
    if (entry) current = { name: entry[1]!, arch: entry[2]! };
    const frame = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (frame && current) {
      out.push({ ...current, stack: Number(frame[1]), spillStores: Number(frame[2]), spillLoads: Number(frame[3]) });
      current = null;
    }
  }
  return out;
}

/** The body of every .entry in a PTX file, by mangled name. */
function ptxEntries(ptx: string): Map<string, string> {
  const entries = new Map<string, string>();
  const parts = ptx.split(/^(?:\.visible )?\.entry /m);  // conv's kernels have internal linkage: no .visible
  for (const part of parts.slice(1)) entries.set(part.slice(0, part.indexOf('(')), part);
  return entries;
}

t.test('nvcc: GEMM and convolution kernels for sm_80 and sm_90 use no local memory; TF32 ones issue mma.sync', { skip: nvcc ? false : 'nvcc is not installed here (CI has it)' }, async (t) => {
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'inkling-ptxas-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const results = await Promise.all(['native/cuda/gemm.cu', 'native/cuda/conv.cu'].map((u) => compile(u, dir)));
  for (const r of results) t.equal(r.code, 0, `nvcc compiles${r.code === 0 ? '' : `: ${r.log.slice(-2000)}`}`);
  const reports = results.flatMap((r) => parsePtxas(r.log));
  const gemmKernels = reports.filter((r) => /gemmTileKernel|splitReduceKernel/.test(r.name));
  for (const arch of ['sm_80', 'sm_90']) {
    const n = gemmKernels.filter((r) => r.arch === arch).length;
    t.equal(n, 17, `${arch}: 17 GEMM kernels (matmul: 4 transposes x simt/tf32 + split-K reduce; conv: 3 passes x 2 + 2 reduces)`);
  }
  const local = gemmKernels.filter((r) => r.stack + r.spillStores + r.spillLoads > 0);
  t.same(local.map((r) => `${r.arch} ${r.name}: ${r.stack} B stack, ${r.spillStores}/${r.spillLoads} B spilled`), [], 'no stack frame and no spills');

  const ptxFiles = readdirSync(dir).filter((f) => f.endsWith('.ptx'));
  t.equal(ptxFiles.length, 4, `the PTX of both units for compute_80 and compute_90 (${ptxFiles.join(', ')})`);
  let tf32 = 0;
  let simt = 0;
  for (const file of ptxFiles) {
    for (const [name, body] of ptxEntries(readFileSync(join(dir, file), 'utf8'))) {
      if (!name.includes('gemmTileKernel')) continue;
      const isTf32 = /Lb1EEEvT_/.test(name);  // the template's last argument, bool TF32
      const mma = (body.match(/mma\.sync\.aligned\.m16n8k8\.row\.col\.f32\.tf32\.tf32\.f32/g) ?? []).length;
      const cvt = /cvt\.rna\.tf32\.f32/.test(body);
      if (isTf32) {
        tf32++;
        t.ok(mma >= 16 && cvt, `${file} ${name.slice(0, 60)}...: ${mma} mma.sync and cvt.rna.tf32`);
      } else {
        simt++;
        t.ok(mma === 0 && !cvt, `${file} ${name.slice(0, 60)}...: no tensor-core instruction`);
      }
    }
  }
  t.equal(tf32, 14, 'all 7 TF32 instantiations in both PTX versions');
  t.equal(simt, 14, 'all 7 SIMT instantiations in both PTX versions');
  t.comment(`nvcc + ptxas -v for sm_80 and sm_90: ${seconds(t0)}`);
});
