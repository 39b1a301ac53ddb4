// Sanitizers over the real kernel sources on tiny shapes (native/emu/check/tiny_kernels.cu: every
// launcher of kernels.h through the real Context, allocator and graph code, checked against CPU
// loops):
// - ThreadSanitizer with one OS thread per emulated thread (the mode is forced under TSan): a
//   missing barrier or an unsynchronised shared-memory access is a reported data race;
// - AddressSanitizer + UndefinedBehaviorSanitizer with fibers: device buffers are exact
//   allocations with ASan-poisoned guard zones, so any out-of-bounds access is reported with the
//   kernel's stack, and UB aborts.
// First each sanitizer must catch a planted bug (native/emu/check/planted.cu), naming the kernel:
// a clean run only means something if a dirty one fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { buildEmuProgram, emuBuildDir, repoRoot, type Sanitizer } from '../../scripts/cuda-emu/build.mjs';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

const outDir = join(emuBuildDir, 'check');
const env = {
  ...process.env,
  TSAN_OPTIONS: 'halt_on_error=0 exitcode=66 second_deadlock_stack=1',
  ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};

function run(exe: string, args: string[], extra: Record<string, string> = {}): { status: number | null; out: string; err: string } {
  const r = spawnSync(exe, args, { cwd: repoRoot, encoding: 'utf8', env: { ...env, ...extra }, timeout: 300_000, maxBuffer: 64 << 20 });
  return { status: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

for (const sanitizer of ['thread', 'address'] as Sanitizer[]) {
  const name = sanitizer === 'thread' ? 'ThreadSanitizer' : 'AddressSanitizer + UBSan';
  const t0 = performance.now();
  const [harness, planted] = await Promise.all([
    buildEmuProgram({ name: `tiny-kernels-${sanitizer}`, units: ['native/emu/check/tiny_kernels.cu'], outDir, sanitize: sanitizer }),
    buildEmuProgram({ name: `planted-${sanitizer}`, units: ['native/emu/check/planted.cu'], withKernels: false, outDir, sanitize: sanitizer }),
  ]);
  const buildTime = seconds(t0);
  const built = harness.ok && planted.ok;
  const log = (harness.ok ? planted.log : harness.log).slice(-2000);
  const skip = cudaEmu.skipUnlessBuilt(built, `the ${name} build failed here (g++ with libtsan2 / libasan8 and libubsan1 needed): ${log}`);
  t.test(`${name}: a planted bug is reported, then the tiny-shape harness is clean for every kernel`, { skip }, async (t) => {
    if (!built) {
      t.fail(`${cudaEmu.variable}=1 but the ${name} build failed: ${log}`);
      return;
    }
    t.comment(`${name} builds: ${buildTime}`);
    const bug = sanitizer === 'thread' ? 'race' : 'overread';
    const kernel = sanitizer === 'thread' ? 'missingBarrierKernel' : 'readPastKernel';
    const report = sanitizer === 'thread' ? /ThreadSanitizer: data race/ : /AddressSanitizer: (use-after-poison|heap-buffer-overflow)/;
    const p = run(planted.output, [bug]);
    t.match(p.err, report, `the planted ${bug} is reported by ${name}`);
    t.match(p.err, new RegExp(`#0 .*${kernel}`), `with ${kernel} on top of the stack`);

    const t1 = performance.now();
    const extra: Record<string, string> = sanitizer === 'thread' ? { INKLING_TINY_MINIMAL: '1' } : {};
    const h = run(harness.output, [], extra);
    const lines = h.out.split('\n').filter((l) => l.startsWith('ok ') || l.startsWith('FAIL '));
    t.ok(lines.length >= 50, `${lines.length} kernel checks ran`);
    for (const line of lines.filter((l) => l.startsWith('FAIL '))) t.fail(line);
    t.notMatch(h.err, /Sanitizer|runtime error/, `no ${name} report${h.err ? `: ${h.err.slice(0, 3000)}` : ''}`);
    t.equal(h.status, 0, `exit status ${h.status}`);
    t.comment(`${name} run: ${seconds(t1)} (${(h.out.match(/^# .*$/m) ?? [''])[0]})`);
  });
}
