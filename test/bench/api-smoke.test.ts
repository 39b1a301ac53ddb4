// bench:api is the evidence for the service's performance figures (README, src/server/README.md):
// a one-second run of each of two phases must finish, print its figures and pass its own
// database check (one row per answered prediction). It once crashed at its end, after the
// model registry was emptied by close(), and printed "db check: FAILED" on every run.
import { spawnSync } from 'node:child_process';
import t from 'tap';

const ROOT = new URL('../..', import.meta.url).pathname;

t.test('npm run bench:api (1 s phases) ends with its database check passing', (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/api.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, BENCH_ROUNDS: '1', BENCH_SECONDS: '1', BENCH_WARMUP_SECONDS: '1', BENCH_PHASES: 'c1,c16' },
  });
  const out = `${r.stdout}\n${r.stderr}`;
  t.equal(r.status, 0, 'exit 0');
  t.match(out, /db check: one row per successful request: OK/, 'every answered prediction has its row');
  t.match(out, /^api c1: p50 [\d.]+ ms/m, 'the c1 line');
  t.match(out, /^api c16: \d+ req\/s/m, 'the c16 line');
  t.notMatch(out, /Error:/, 'no error on the way');
  if (r.status !== 0) t.comment(out.slice(-3000));
  t.end();
});
