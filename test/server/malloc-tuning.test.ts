// The service's malloc settings (src/server/malloc-tuning.ts): with them, memory freed after a
// burst of 5 MB upload buffers goes back to the system; without them (glibc's dynamic mmap
// threshold), the same burst stays resident. Both are measured, so the check shows the problem
// it guards against. glibc only (a skip elsewhere, or without the cpu addon, which sets them;
// INKLING_REQUIRE_CPU=1 makes a missing addon a failure).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { limitMallocRetention } from '../../src/server/malloc-tuning.ts';
import { loadCpuAddon } from '../../src/nn/backends/cpu/addon.ts';

const glibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);
let addonError = '';
try {
  loadCpuAddon();
} catch (err) {
  addonError = (err as Error).message;
}
const required = process.env.INKLING_REQUIRE_CPU === '1';
const skip = !glibc ? 'not glibc: the settings do not apply' : addonError && !required ? `no cpu addon (${addonError})` : false;

function retained(mode: 'tune' | 'untuned'): { tuned: string; retainedMb: number } {
  const child = new URL('./malloc-retention-child.ts', import.meta.url).pathname;
  const env = { ...process.env };
  delete env.MALLOC_ARENA_MAX;
  delete env.MALLOC_MMAP_THRESHOLD_;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, mode], { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

t.test('freed upload buffers go back to the system with the service\'s malloc settings', { skip }, async (t) => {
  const tuned = retained('tune');
  const untuned = retained('untuned');
  t.match(tuned.tuned, /mmap threshold 256 KiB, at most 4 arenas/, 'the settings were applied');
  t.ok(tuned.retainedMb < 50, `with them: ${tuned.retainedMb} MB of 200 MB freed stayed resident (< 50)`);
  t.ok(untuned.retainedMb > 100, `without them: ${untuned.retainedMb} MB stayed resident (> 100: the problem is real here)`);
});

t.test('MALLOC_* in the environment is the operator\'s choice: left alone', async (t) => {
  t.match(limitMallocRetention({ MALLOC_ARENA_MAX: '2' }), /as set in the environment/);
  t.match(limitMallocRetention({ MALLOC_MMAP_THRESHOLD_: '131072' }), /as set in the environment/);
});
