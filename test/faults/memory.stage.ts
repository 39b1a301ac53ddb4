// Part of npm run test:faults: bench/api-memory.ts (npm run bench:memory) as a check. `inkling
// serve`'s resident memory stays under 500 MB through 64 concurrent 5 MB uploads and 100 uploads
// that stall at 4.9 MB, and the stalled ones are cut at the body timeout (10 s here, to keep the
// stage short; the bench's default is the service's 30 s). Its figures are printed.
import t from 'tap';
import { spawn } from 'node:child_process';

t.test('memory under 64 concurrent 5 MB uploads and 100 stalled ones (bench:memory)', async (t) => {
  const bench = new URL('../../bench/api-memory.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', bench], { env: { ...process.env, BENCH_BODY_TIMEOUT_MS: '10000' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  console.log(out.split('\n').map((l) => `    ${l}`).join('\n'));
  t.equal(code, 0, 'bench:memory passes its own checks');
  t.match(out, /memory check: OK/);
});
