// The database goes away under a running server: predictions are still answered (logged: false),
// rows wait in the on-disk spool, and once the database is back every acknowledged prediction is
// in the table, exactly once; a batch likewise, and a batch the full spool cannot take is refused
// whole. Also across a server restart. (A full spool, a crash and a hang of
// PostgreSQL under load: durability.test.ts.)
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import crypto from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDatabase, startTestServer, Client, type TestDatabase, canvasSevenPng } from './helpers.ts';

let db: TestDatabase;
let png: Buffer;
t.before(async () => {
  db = await startTestDatabase();
  png = await canvasSevenPng();
});
t.teardown(async () => {
  await db?.destroy();
});

t.test('database stop/start under a running server: no acknowledged prediction is lost', async (t) => {
  const srv = await startTestServer(db);
  try {
    const c = new Client(srv.url);
    const before = await c.png('/api/predictions', png);
    t.equal(before.json.logged, true);

    await db.stop();
    const during: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await c.png('/api/predictions', png);
      t.equal(r.status, 201, 'still answered while the database is down');
      t.equal(r.json.logged, false, 'and says it is not logged yet');
      during.push(r.json.id);
    }
    t.equal(srv.deps.log.spool.size, 5, 'five rows in the spool');
    const batch = await c.json('POST', '/api/predictions/batch', [png.toString('base64'), png.toString('base64')]);
    t.equal(batch.status, 200, 'a batch is answered too');
    t.same(batch.json.items.map((i: { status: number; prediction: { logged: boolean } }) => [i.status, i.prediction.logged]), [[201, false], [201, false]], 'its rows spooled (logged: false)');
    for (const i of batch.json.items) during.push(i.prediction.id);
    t.equal(srv.deps.log.spool.size, 7, 'in the spool with the others');
    const ready = await c.req('GET', '/readyz');
    t.equal(ready.status, 503);
    t.equal(ready.json.checks.database, false);
    const history = await c.req('GET', '/api/predictions');
    t.equal(history.status, 503);
    t.equal(history.json.error.code, 'database_unavailable');
    t.equal((await c.req('GET', '/healthz')).status, 200, 'alive');

    await db.restart();
    await srv.deps.log.waitUntilUp();
    const after = await c.req('GET', '/api/predictions?limit=100');
    t.equal(after.status, 200);
    t.equal(after.json.total, 8, 'one row per acknowledged prediction');
    const ids = new Set(after.json.items.map((i: { id: string }) => i.id));
    for (const id of [before.json.id, ...during]) t.ok(ids.has(id), `row ${id} present`);
    t.equal((await c.png('/api/predictions', png)).json.logged, true, 'writes go to the database again');
    t.equal((await c.req('GET', '/readyz')).status, 200);
    await c.req('DELETE', '/api/predictions');
  } finally {
    await srv.close();
  }
});

t.test('a batch the full spool cannot take is 503 with Retry-After, and none of it is acknowledged or kept', async (t) => {
  // ~2.3 KB a spooled canvas prediction: room for a few rows, not for a batch of 8.
  const srv = await startTestServer(db, { spoolMaxBytes: 12_000 });
  try {
    const c = new Client(srv.url);
    await db.stop();
    const big = await c.json('POST', '/api/predictions/batch', Array(8).fill(png.toString('base64')));
    t.equal(big.status, 503, 'the whole batch refused');
    t.equal(big.json.error.code, 'storage_unavailable');
    t.ok(Number(big.headers.get('retry-after')) > 0, 'with Retry-After');
    t.equal(srv.deps.log.spool.size, 0, 'nothing of it in the spool (all or nothing)');
    const small = await c.json('POST', '/api/predictions/batch', [png.toString('base64')]);
    t.same([small.status, small.json.items[0].status, small.json.items[0].prediction.logged], [200, 201, false], 'a batch that fits is spooled and acknowledged');
    await db.restart();
    await srv.deps.log.waitUntilUp();
    const rows = await c.req('GET', '/api/predictions?limit=100');
    t.same(rows.json.items.map((i: { id: string }) => i.id), [small.json.items[0].prediction.id], 'the table holds the acknowledged row only');
    await c.req('DELETE', '/api/predictions');
  } finally {
    await srv.close();
  }
});

t.test('the spool survives a server restart while the database is down', async (t) => {
  const spoolDir = mkdtempSync(join(tmpdir(), 'inkling-spool-restart-'));
  const srv1 = await startTestServer(db, { spoolDir });
  const c = new Client(srv1.url);
  await db.stop();
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await c.png('/api/predictions', png)).json.id);
  await srv1.close(); // graceful: flushes to the spool
  await db.restart();
  const srv2 = await startTestServer(db, { spoolDir });
  try {
    await srv2.deps.log.waitUntilUp();
    const c2 = new Client(srv2.url);
    c2.cookie = c.cookie; // same client
    const h = await c2.req('GET', '/api/predictions');
    t.equal(h.json.total, 3);
    t.same(new Set(h.json.items.map((i: { id: string }) => i.id)), new Set(ids));
    await c2.req('DELETE', '/api/predictions');
  } finally {
    await srv2.close();
  }
});

t.test('a row the database refuses is refused alone (500, never a 201 for a row not stored); the log stays up', async (t) => {
  const srv = await startTestServer(db);
  try {
    const row = (digit: number) => ({
      id: crypto.randomUUID(), createdAt: new Date(), clientId: 'poison-test', source: 'canvas' as const, digit, confidence: 0.5,
      probabilities: new Array(10).fill(0.1), modelVersion: 'v', decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: 1,
      inputPng: Buffer.from([1]), thumbnailPng: Buffer.from([2]),
    });
    const [good, bad, good2] = await Promise.all([srv.deps.log.write(row(3)), srv.deps.log.write(row(42)), srv.deps.log.write(row(4))]);
    t.same([good, bad, good2], ['stored', 'rejected', 'stored'], 'the CHECK-violating row alone is not stored');
    t.equal(srv.deps.log.up, true, 'still writing to the database');
    t.equal(srv.deps.log.rejected, 1);
    t.equal(srv.deps.log.spool.size, 0, 'nothing spooled');
    const admin = await srv.deps.pool.oneFirst(sql.type(z.object({ n: z.number().int() }))`SELECT count(*)::int AS n FROM predictions WHERE client_id = 'poison-test'`);
    t.equal(admin, 2);
  } finally {
    await srv.close();
  }
});
