// The cpu backend's thread pool (native/cpu/thread_pool.cc) under a stress harness
// (thread-pool-stress.cc) that makes its rare interleavings common: workers nap between reading
// the pool's state and the job's task count, the caller between storing a job and publishing it.
// Seen once in bench:train (2026-12-02): a worker that read a finished job's state, was
// descheduled, and resumed after the next job's larger task count was stored claimed a task of
// the finished job with the next job's function and counted it done for that job, whose caller
// returned while a task still ran (a divide error in a kernel reading the returned frame).
// The pool now closes each job's state before returning; the same source with that one store
// removed must fail here, so the harness is shown to catch the bug it is for.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const poolSource = join(root, 'native', 'cpu', 'thread_pool.cc');
const harness = join(root, 'test', 'cpu', 'thread-pool-stress.cc');
const CLOSE = '  state_.store((uint64_t(generation) << 32) | kClosed, std::memory_order_release);';

const compilerMissing = ((): string | false => {
  const r = spawnSync('g++', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? false : 'no g++ (the cpu addon needs it too: apt-get install g++)';
})();

function build(dir: string, source: string, name: string): string {
  const out = join(dir, name);
  execFileSync('g++', ['-std=c++17', '-O2', '-pthread', '-DINKLING_POOL_TEST_HOOKS', `-I${dir}`, source, harness, '-o', out], { stdio: 'pipe' });
  return out;
}

function stress(bin: string, threads: number, jobs: number): { violations: number; output: string } {
  const r = spawnSync(bin, [String(threads), String(jobs)], { encoding: 'utf8', timeout: 60_000 });
  const output = `${r.stdout}${r.stderr}`.trim();
  const m = /violations (\d+)/.exec(output);
  return { violations: m ? Number(m[1]) : Number.NaN, output };
}

t.test('every task of every job runs exactly once, before its run() returns', { skip: compilerMissing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(root, 'native', 'cpu', 'thread_pool.h'), join(dir, 'thread_pool.h'));
  const pool = build(dir, poolSource, 'pool-stress');
  for (const threads of [2, 4]) {
    for (let run = 0; run < 3; run++) {
      const r = stress(pool, threads, 20000);
      t.equal(r.violations, 0, `${threads} threads, run ${run + 1}: ${r.output}`);
    }
  }
});

t.test('the harness catches the pool without the close of a finished job', { skip: compilerMissing }, async (t) => {
  const source = readFileSync(poolSource, 'utf8');
  t.ok(source.includes(CLOSE), 'thread_pool.cc closes each job with the store this mutation removes');
  const dir = mkdtempSync(join(tmpdir(), 'inkling-pool-mutant-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(root, 'native', 'cpu', 'thread_pool.h'), join(dir, 'thread_pool.h'));
  const mutantSource = join(dir, 'thread_pool_unclosed.cc');
  writeFileSync(mutantSource, source.replace(CLOSE, ''));
  const mutant = build(dir, mutantSource, 'pool-unclosed');
  // each run of 20,000 jobs found 160-260 violations here; a few runs so that a lucky one cannot pass it
  let total = 0;
  for (let run = 0; run < 3; run++) total += stress(mutant, 2, 20000).violations;
  t.ok(total > 0, `the unclosed pool is caught: ${total} violations in 3 runs`);
});
