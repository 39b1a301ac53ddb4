// The emulator's own self-test (native/emu/tests/selftest.cu): warp intrinsics against the PTX rules,
// shared-memory and device-memory poison, dynamic shared memory, atomics, the cvt.rna.tf32 and
// mma.sync twins, events, capture and replay, and planted bugs the emulator must report naming the
// kernel and the line (divergent barriers, an early exit before a barrier, bad masks, a deadlock,
// writes past and before a buffer, a trap, bad launch shapes, an overrunning copy). Run with fibers
// in forward and reverse order and with one OS thread per emulated thread. Then the dev harnesses
// of native/cuda/dev/ on the emulator.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { buildEmuProgram, emuBuildDir, repoRoot } from '../../scripts/cuda-emu/build.mjs';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

const t0 = performance.now();
const build = await buildEmuProgram({
  name: 'emu-selftest', units: ['native/emu/tests/selftest.cu'], withKernels: false, outDir: join(emuBuildDir, 'selftest'),
});
const buildTime = seconds(t0);

if (!build.ok && !cudaEmu.required) {
  t.test('emulator self-test', { skip: `it does not build here (g++ 12 or newer needed): ${build.log.slice(-300)}` }, async () => {});
} else {
  t.test('the emulator self-test builds', async (t) => {
    t.ok(build.ok, build.ok ? `built in ${buildTime}` : build.log.slice(-3000));
  });
  const configs: { label: string; env: Record<string, string> }[] = [
    { label: 'fibers, forward order', env: { INKLING_EMU_MODE: 'fibers', INKLING_EMU_ORDER: 'forward' } },
    { label: 'fibers, reverse order', env: { INKLING_EMU_MODE: 'fibers', INKLING_EMU_ORDER: 'reverse' } },
    { label: 'one OS thread per emulated thread', env: { INKLING_EMU_MODE: 'threads', INKLING_EMU_ORDER: 'forward' } },
  ];
  for (const config of configs) {
    t.test(`emulator self-test: ${config.label}`, { skip: build.ok ? false : 'the build failed' }, async (t) => {
      const t1 = performance.now();
      const r = spawnSync(build.output, [], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...config.env }, timeout: 120_000 });
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('ok ') || l.startsWith('FAIL '));
      t.ok(lines.length >= 40, `${lines.length} checks ran`);
      for (const line of lines) t.ok(line.startsWith('ok '), line);
      t.equal(r.status, 0, `exit status ${r.status}${r.stderr ? `: ${r.stderr.slice(-500)}` : ''}`);
      t.comment(`self-test (${config.label}): ${seconds(t1)}`);
    });
  }
}

// The standalone dev harnesses (native/cuda/dev/, llm.c style, with CPU references in double), which
// scripts/gpu-check.sh runs on a GPU machine: they compile unchanged against the emulator, so
// their checks (not their timings: INKLING_DEV_NO_TIMING=1) run here first.
for (const harness of ['kernels_check', 'gemm_check']) {
  const t0 = performance.now();
  const dev = await buildEmuProgram({
    name: harness, units: [`native/cuda/dev/${harness}.cu`], withKernels: false, outDir: join(emuBuildDir, 'dev'),
  });
  const skip = cudaEmu.skipUnlessBuilt(dev.ok, `it does not build here: ${dev.log.slice(-300)}`);
  t.test(`native/cuda/dev/${harness}.cu passes on the emulator`, { skip }, async (t) => {
    t.ok(dev.ok, dev.ok ? `built in ${seconds(t0)}` : dev.log.slice(-3000));
    if (!dev.ok) return;
    const t1 = performance.now();
    const r = spawnSync(dev.output, [], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, INKLING_DEV_NO_TIMING: '1' }, timeout: 300_000 });
    const checks = r.stdout.split('\n').filter((l) => /\b(ok|FAIL)\b/.test(l));
    t.ok(checks.length >= 20, `${checks.length} checks printed`);
    for (const line of checks.filter((l) => /\bFAIL\b/.test(l))) t.fail(line.trim());
    t.match(r.stdout, /all (kernel|gemm\/conv) checks passed/, 'the harness reports success');
    t.equal(r.status, 0, `exit status ${r.status}${r.stderr ? `: ${r.stderr.slice(-500)}` : ''}`);
    t.comment(`${harness} on the emulator: ${seconds(t1)}`);
  });
}
