// PredictionLog batching against a stand-in pool (the real database paths, outage and replay, are
// in outage.test.ts): one INSERT in flight, rows arriving meanwhile go out together in the next
// one, every writer learns its row was logged, and flush() waits for all of it.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DatabasePool } from 'slonik';
import { PredictionLog } from '../../src/server/prediction-log.ts';
import { Spool } from '../../src/server/spool.ts';
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
  const log = new PredictionLog(db.pool, new Spool(dir, 100), pino({ level: 'silent' }));
  const first = log.write(row()); // alone: goes out on the next turn of the event loop
  await new Promise((r) => setTimeout(r, 5)); // its INSERT is now in flight
  const later = Array.from({ length: 7 }, () => log.write(row()));
  const results = await Promise.all([first, ...later]);
  t.same(results, Array(8).fill(true), 'every writer hears its row was logged');
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
  const log = new PredictionLog(db.pool, new Spool(dir, 100), pino({ level: 'silent' }));
  const writes = Array.from({ length: 5 }, () => log.write(row()));
  await new Promise((r) => setImmediate(r));
  writes.push(log.write(row()), log.write(row()));
  await log.flush();
  t.equal(log.inserted, 7, 'everything written before flush() returned');
  t.same(await Promise.all(writes), Array(7).fill(true));
  t.same(db.inserts, [5, 2]);
});
