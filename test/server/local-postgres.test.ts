// The local cluster manager: reuse of an initialised data dir, refusal while another live process
// owns the cluster, and recovery from a postgres orphaned by a SIGKILLed parent (PLATFORM.md).
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { startLocalPostgres } from '../../src/server/db/local-postgres.ts';
import { connectPool } from '../../src/server/db/pool.ts';
import { sql } from 'slonik';
import { z } from 'zod';
import { copyTemplateCluster } from './helpers.ts';

const holder = `
  const { startLocalPostgres } = await import(${JSON.stringify(new URL('../../src/server/db/local-postgres.ts', import.meta.url).pathname)});
  await startLocalPostgres({ dataDir: process.argv[1], durable: false });
  console.log('STARTED');
  setInterval(() => {}, 1000);
`;

t.test('in use by a live process: refused; orphaned by SIGKILL: stopped and restarted', async (t) => {
  const { base, dataDir } = await copyTemplateCluster();
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', holder, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('STARTED') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  await t.rejects(startLocalPostgres({ dataDir, durable: false }), /in use by a running postgres .* of another process/);
  child.kill('SIGKILL'); // the postgres it started is now orphaned
  await new Promise((r) => child.once('exit', r));
  const lines: string[] = [];
  const pg = await startLocalPostgres({ dataDir, durable: false, log: (l) => lines.push(l) });
  t.ok(lines.some((l) => /stopping an orphaned postgres/.test(l)), 'the orphan was stopped');
  const pool = await connectPool(pg.url);
  t.equal(await pool.oneFirst(sql.type(z.object({ x: z.number() }))`SELECT 41 + 1 AS x`), 42, 'and the restarted cluster answers');
  await pool.end();
  await pg.stop();
});

t.test('D13: stop() finishes after the cluster was SIGSTOPped and SIGCONTed, and even while it is still stopped', async (t) => {
  const { clusterPids, signalAll } = await import('./load.ts');
  const { base, dataDir } = await copyTemplateCluster();
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  for (const stillStopped of [false, true]) {
    const pg = await startLocalPostgres({ dataDir, durable: false });
    const pids = await clusterPids(dataDir);
    signalAll(pids, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 300));
    if (!stillStopped) signalAll(pids, 'SIGCONT');
    const t0 = performance.now();
    const stopped = await Promise.race([pg.stop().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 25_000))]);
    t.ok(stopped, `${stillStopped ? 'still stopped' : 'continued'}: stop() returned (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    signalAll(pids, 'SIGCONT');
    signalAll(pids, 'SIGKILL'); // whatever is left of a failed stop
    const alive = (pid: number) => {
      try {
        return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie is gone
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    t.same(pids.filter(alive), [], 'no process of the cluster is left');
  }
});

t.test('restartOnCrash: a SIGKILLed postmaster is started again on the same port, its data intact', async (t) => {
  const { base, dataDir } = await copyTemplateCluster();
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const lines: string[] = [];
  const pg = await startLocalPostgres({ dataDir, durable: false, restartOnCrash: true, log: (l) => lines.push(l) });
  const pool = await connectPool(pg.url, { syncCommit: true }); // the test cluster's own default is off
  await pool.query(sql.unsafe`CREATE TABLE kept (x int)`);
  await pool.query(sql.unsafe`INSERT INTO kept VALUES (42)`);
  process.kill(Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]), 'SIGKILL');
  for (let i = 0; i < 300 && pg.restarts === 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.equal(pg.restarts, 1, 'restarted once');
  t.ok(lines.some((l) => /exited unexpectedly/.test(l)), 'and said why');
  let x: number | null = null;
  for (let i = 0; i < 50 && x === null; i++) {
    x = await pool.oneFirst(sql.type(z.object({ x: z.number() }))`SELECT x FROM kept`).catch(() => null);
    if (x === null) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(x, 42, 'the same pool reaches it again, data intact');
  await pool.end();
  await pg.stop();
  t.equal(pg.restarts, 1, 'stop() is not a crash: no restart after it');
});
