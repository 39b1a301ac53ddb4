// npm run test:faults — the fault-injection suite (issue 14): `inkling serve` as users run it
// (its own embedded PostgreSQL under a temp data dir, the shipped model, default settings but for
// the port, rate limiting off as for any load test from one address, and in one scenario the
// spool's cap) under load at 16 connections, recording the id of every 201. Each scenario injects one fault, lets the service recover, then counts the
// acknowledged ids against the rows of the predictions table:
//   postgres SIGKILL      the postmaster is killed; the service restarts it, spools meanwhile;
//   postgres SIGSTOP 10s  every process of the cluster is stopped for 10 s (a hung database);
//   spool full            the same hang with a 2 MB spool cap: past it, 503 with Retry-After;
//   service SIGTERM       graceful shutdown under load, then a restart;
//   service SIGKILL       the service is killed under load (its postgres orphaned), then restarted.
// Asserts 0 acknowledged predictions lost and that the service answers after each, and prints one
// table: scenario, requests, 201s, 503s, other answers, lost, time.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { connectPool } from '../../src/server/db/pool.ts';
import { spawnServe, type ServeProcess, canvasSevenPng } from '../server/helpers.ts';
import { Load, lostIds, clusterPids, signalAll } from '../server/load.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let current: Load | null = null;

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) {
      const seen = current ? ` (answers so far: ${[...current.statuses].map(([s, n]) => `${n}x${s || 'no connection'}`).join(', ')})` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for: ${what}${seen}\n${serve?.output().slice(-2000) ?? ''}`);
    }
    await sleep(50);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'inkling-faults-'));
chmodSync(dataDir, 0o755);
const pgDir = join(dataDir, 'postgres');
let serve: ServeProcess | null = null;
let pool: DatabasePool | null = null;
let png: Buffer;

interface Row {
  scenario: string;
  requests: number;
  created: number;
  unavailable: number;
  other: number;
  lost: number;
  seconds: number;
}
const results: Row[] = [];

async function start(env: Record<string, string> = {}): Promise<ServeProcess> {
  // A new service starts its cluster on a new port: the old pool's connections are gone.
  await pool?.end().catch(() => {});
  pool = null;
  serve = await spawnServe({ INKLING_DATA_DIR: dataDir, INKLING_LOG_LEVEL: 'warn', INKLING_RATE_LIMIT: '0', ...env }, 180_000);
  return serve;
}

/** The embedded cluster's URL, from its postmaster.pid (line 4 is the port). */
function databaseUrl(): string {
  const port = readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[3].trim();
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

async function db(): Promise<DatabasePool> {
  pool ??= await connectPool(databaseUrl());
  return pool;
}

/** The service's own account of its storage (GET /readyz). */
async function readiness(url: string): Promise<{ database: boolean; spooledRows: number } | null> {
  try {
    const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3000) });
    return ((await r.json()) as { checks: { database: boolean; spooledRows: number } }).checks;
  } catch {
    return null;
  }
}

/** Waits until the database answers and the spool is empty, then checks every acknowledged id. */
async function settle(t: Tap, scenario: string, load: Load, started: number): Promise<void> {
  const url = serve!.url;
  await until(`${scenario}: database reachable and spool drained`, async () => {
    const r = await readiness(url);
    return r !== null && r.database && r.spooledRows === 0;
  }, 120_000);
  const lost = await lostIds(await db(), load.acked.keys());
  const health = await fetch(`${url}/healthz`).then((r) => r.status, () => 0);
  const row: Row = {
    scenario,
    requests: load.requests,
    created: load.count(201),
    unavailable: load.count(503),
    other: load.requests - load.count(201) - load.count(503),
    lost: lost.length,
    seconds: (performance.now() - started) / 1000,
  };
  results.push(row);
  t.equal(lost.length, 0, `${scenario}: ${lost.length} of ${load.acked.size} acknowledged predictions lost`);
  t.equal(health, 200, `${scenario}: the service answers afterwards`);
  t.equal(load.missingRetryAfter, 0, `${scenario}: every 503 carries Retry-After`);
  const other = [...load.statuses].filter(([s]) => s !== 201 && s !== 503 && s !== 0);
  t.same(other, [], `${scenario}: no answer but 201 and 503`);
}
type Tap = { equal: (a: unknown, b: unknown, m: string) => unknown; same: (a: unknown, b: unknown, m: string) => unknown; ok: (a: unknown, m: string) => unknown };

t.before(async () => {
  png = await canvasSevenPng();
  await start();
});

t.teardown(async () => {
  await pool?.end().catch(() => {});
  if (existsSync(pgDir)) {
    try {
      signalAll(await clusterPids(pgDir), 'SIGCONT');
    } catch {
      // no cluster running
    }
  }
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  // other: requests that got no answer (the connection refused or cut while the service restarts)
  console.log('\nscenario               requests    201s    503s  other  lost   time');
  for (const r of results) {
    console.log(`${r.scenario.padEnd(20)} ${String(r.requests).padStart(10)} ${String(r.created).padStart(7)} ${String(r.unavailable).padStart(7)} ${String(r.other).padStart(6)} ${String(r.lost).padStart(5)} ${r.seconds.toFixed(1).padStart(6)} s`);
  }
});

t.test('postgres SIGKILL under load: the service restarts it; nothing acknowledged is lost', async (t) => {
  const t0 = performance.now();
  const load = (current = new Load(serve!.url, png, 16)).start();
  await until('200 acknowledged', () => load.acked.size >= 200);
  const postmaster = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(postmaster, 'SIGKILL');
  const ackedAtKill = load.acked.size;
  await until('100 acknowledged after the kill', () => load.acked.size >= ackedAtKill + 100);
  await until('the database is back', async () => (await readiness(serve!.url))?.database === true, 60_000);
  await sleep(1000);
  await load.stop();
  await settle(t, 'postgres SIGKILL', load, t0);
});

t.test('postgres SIGSTOP for 10 s under load: answered at normal speed from the spool, then drained', async (t) => {
  const t0 = performance.now();
  const load = (current = new Load(serve!.url, png, 16)).start();
  await until('200 acknowledged', () => load.acked.size >= 200);
  const pids = await clusterPids(pgDir);
  const stopAt = load.elapsedMs;
  signalAll(pids, 'SIGSTOP');
  await sleep(10_000);
  const contAt = load.elapsedMs;
  signalAll(pids, 'SIGCONT');
  const answered = load.samples.filter((s) => s.at > stopAt + 2000 && s.at + s.ms < contAt).length;
  t.ok(answered > 100, `${answered} requests answered while the database was stopped`);
  await sleep(2000);
  await load.stop();
  await settle(t, 'postgres SIGSTOP 10s', load, t0);
});

t.test('the spool fills during a hang: 503 with Retry-After past the cap, never a lost 201', async (t) => {
  await serve!.stop();
  await start({ INKLING_SPOOL_MAX_BYTES: String(2 * 1024 * 1024) });
  const t0 = performance.now();
  const load = (current = new Load(serve!.url, png, 16)).start();
  await until('200 acknowledged', () => load.acked.size >= 200);
  const pids = await clusterPids(pgDir);
  signalAll(pids, 'SIGSTOP');
  await until('503s once the spool is full', () => load.count(503) >= 50, 60_000).finally(() => signalAll(pids, 'SIGCONT'));
  await sleep(2000);
  await load.stop();
  t.ok(load.count(503) >= 50, `${load.count(503)} answered 503 while the spool was full`);
  await settle(t, 'spool full (2 MB)', load, t0);
  await serve!.stop();
  await start();
});

/** Under load: `stop` ends the service (gracefully or not), then it starts again on its port and
 *  takes 100 more predictions before the ledger is checked. */
async function restartUnderLoad(t: Tap, scenario: string, stop: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  const load = (current = new Load(serve!.url, png, 16)).start();
  await until('200 acknowledged', () => load.acked.size >= 200);
  await stop();
  await start({ PORT: new URL(serve!.url).port });
  const ackedAtRestart = load.acked.size;
  await until('100 acknowledged after the restart', () => load.acked.size >= ackedAtRestart + 100);
  await load.stop();
  await settle(t, scenario, load, t0);
}

t.test('service SIGTERM under load, restarted: in-flight requests finish, nothing acknowledged is lost', async (t) => {
  await restartUnderLoad(t, 'service SIGTERM', async () => {
    t.equal(await serve!.stop(30_000), 0, 'the service exited 0 after SIGTERM');
  });
});

t.test('service SIGKILL under load (its postgres orphaned), restarted: nothing acknowledged is lost', async (t) => {
  await restartUnderLoad(t, 'service SIGKILL', async () => {
    serve!.child.kill('SIGKILL');
    await serve!.exited;
  });
});
