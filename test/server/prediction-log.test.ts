// PredictionLog against a stand-in pool (the real database paths are in outage.test.ts and
// durability.test.ts): one INSERT in flight, rows arriving meanwhile go out together in the next
// one, every writer learns where its row went, flush() waits for all of it; an INSERT that hangs
// is cut by the write timeout and its row spooled, the breaker sends the next rows straight to the
// spool, and the spool drains once the database answers.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DatabasePool } from 'slonik';
import { PredictionLog } from '../../src/server/prediction-log.ts';
import { Spool } from '../../src/server/spool.ts';
import { CircuitBreaker } from '../../src/server/circuit-breaker.ts';
import type { PredictionRow } from '../../src/server/db/predictions.ts';

/** Records the row count of every INSERT (its values come in 15 per row); each takes `ms`. */
function fakePool(ms: number) {
  const inserts: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const pool = {
    async query(q: { sql: string; values: readonly unknown[] }) {
      if (!/INSERT INTO predictions/.test(q.sql)) throw new Error(`unexpected query ${q.sql}`);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      inserts.push(q.values.length / 15);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return { rows: [], rowCount: q.values.length / 15, command: 'INSERT', fields: [], notices: [] };
    },
  };
  return { pool: pool as unknown as DatabasePool, inserts, maxInFlight: () => maxInFlight };
}

/** A log over the stand-in pool, with a breaker whose probe always answers. */
function makeLog(pool: DatabasePool, dir: string): PredictionLog {
  const breaker = new CircuitBreaker({ name: 'test db', probe: async () => {}, probeTimeoutMs: 100, probeIntervalMs: 50, isConnectionError: () => false });
  return new PredictionLog(pool, new Spool({ dir, maxBytes: 1 << 20 }), breaker, pino({ level: 'silent' }), { writeTimeoutMs: 1000 });
}

let n = 0;
function row(): PredictionRow {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, createdAt: new Date(), clientId: 'c'.repeat(22), source: 'canvas', digit: n % 10,
    confidence: 0.9, probabilities: Array(10).fill(0.1), modelVersion: 'test', decodeMs: 0.1, preprocessMs: 0.2, inferenceMs: 0.3, totalMs: 0.7,
    inputPng: Buffer.from([1, 2, 3]), thumbnailPng: Buffer.from([4, 5, 6]),
  };
}

t.test('rows that arrive while an INSERT runs go out together in the next one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-plog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = fakePool(30);
  const log = makeLog(db.pool, dir);
  const first = log.write(row()); // alone: goes out on the next turn of the event loop
  await new Promise((r) => setTimeout(r, 5)); // its INSERT is now in flight
  const later = Array.from({ length: 7 }, () => log.write(row()));
  const results = await Promise.all([first, ...later]);
  t.same(results, Array(8).fill('stored'), 'every writer hears its row was stored');
  t.same(db.inserts, [1, 7], 'one single-row INSERT, then the seven that waited in one statement');
  t.equal(db.maxInFlight(), 1, 'never two INSERTs at once');
  t.equal(log.inserted, 8);
  t.equal(log.statements, 2);
  await log.close();
});

t.test('flush waits for queued and in-flight rows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-plog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = fakePool(10);
  const log = makeLog(db.pool, dir);
  const writes = Array.from({ length: 5 }, () => log.write(row()));
  await new Promise((r) => setImmediate(r));
  writes.push(log.write(row()), log.write(row()));
  await log.flush();
  t.equal(log.inserted, 7, 'everything written before flush() returned');
  t.same(await Promise.all(writes), Array(7).fill('stored'));
  t.same(db.inserts, [5, 2]);
});

t.test('an INSERT that hangs: the row is spooled at the write timeout, the next ones go straight to the spool, and all drain once the database answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inkling-plog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let hung = true;
  // A frozen server (SIGSTOP) answers nothing until it is thawed; then the probes waiting on it
  // answer, as a SIGCONTed PostgreSQL's do. (The hung INSERT stays abandoned: it timed out.) A
  // probe that never settled kept the breaker open for good whenever the machine was slow enough
  // that the breaker's first probe went out before the thaw.
  let thaw!: () => void;
  const thawed = new Promise<void>((r) => (thaw = r));
  const stored: number[] = [];
  const pool = {
    async query(q: { sql: string; values: readonly unknown[] }) {
      if (/SELECT 1/.test(q.sql)) {
        if (hung) await thawed;
        return { rows: [{ ok: 1 }], rowCount: 1, command: 'SELECT', fields: [], notices: [] };
      }
      if (hung) await new Promise(() => {});
      stored.push(q.values.length / 15);
      return { rows: [], rowCount: q.values.length / 15, command: 'INSERT', fields: [], notices: [] };
    },
    async oneFirst() {
      if (hung) await thawed;
      return 1;
    },
  } as unknown as DatabasePool;
  const breaker = new CircuitBreaker({ name: 'test db', probe: () => pool.oneFirst(null as never).then(() => {}), probeTimeoutMs: 50, probeIntervalMs: 20, isConnectionError: () => false });
  const log = new PredictionLog(pool, new Spool({ dir, maxBytes: 1 << 20 }), breaker, pino({ level: 'silent' }), { writeTimeoutMs: 100 });
  const t0 = performance.now();
  t.equal(await log.write(row()), 'spooled', 'the first row: spooled when its INSERT timed out');
  t.ok(performance.now() - t0 < 1000, 'at the write timeout, not when the database answers');
  t.equal(log.up, false, 'the breaker is open');
  const t1 = performance.now();
  t.same(await Promise.all([log.write(row()), log.write(row())]), ['spooled', 'spooled']);
  t.ok(performance.now() - t1 < 100, 'the next rows skip the database');
  t.equal(log.spool.size, 3);
  hung = false;
  thaw();
  await log.waitUntilUp(5000);
  t.equal(stored.reduce((a, b) => a + b, 0), 3, 'all three drained into the database');
  t.equal(await log.write(row()), 'stored', 'and new rows go there directly again');
  await log.close();
});
