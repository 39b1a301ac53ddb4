// Issue 14, D12: /api/stats and history pages cost the same at 100,000 rows as at 1,000 (counters
// kept by triggers, sql/002_prediction_counts.sql; keyset pages on an index), and the counters
// agree with the table after inserts, labels, deletes and clears.
// (At 1M rows, with figures: npm run bench:history.)
import t from 'tap';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { startTestDatabase, startTestServer, Client, canvasSevenPng, type TestDatabase } from './helpers.ts';
import type { RunningServer } from '../../src/server/server.ts';
import { predictionStats, listPredictions } from '../../src/server/db/predictions.ts';

let db: TestDatabase;
let srv: RunningServer;
t.before(async () => {
  db = await startTestDatabase();
  srv = await startTestServer(db, { rateLimit: 0 });
});
t.teardown(async () => {
  await srv?.close();
  await db?.destroy();
});

/** `n` synthetic predictions of `client`, one a second back from now, every 7th labelled. */
async function insertRows(pool: DatabasePool, client: string, n: number): Promise<void> {
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET LOCAL statement_timeout = 0`);
    await tx.query(sql.unsafe`
    INSERT INTO predictions (id, created_at, client_id, source, digit, confidence, probabilities, true_label, model_version,
                             decode_ms, preprocess_ms, inference_ms, total_ms, input_png, thumbnail_png)
    SELECT gen_random_uuid(), now() - make_interval(secs => i), ${client}, (ARRAY['canvas','upload','url'])[1 + i % 3], (i % 10)::smallint, 0.5 + (i % 50) / 100.0,
           array_fill(0.1::real, ARRAY[10]), CASE WHEN i % 7 = 0 THEN ((i / 7) % 10)::smallint END, 'scale-test',
           0.2, 0.4, 0.3, 0.5 + (i % 97) / 10.0, '\\x89504e47'::bytea, '\\x89504e47'::bytea
    FROM generate_series(1, ${n}) AS i`);
  });
  await pool.query(sql.unsafe`ANALYZE predictions`); // as autovacuum would after a load like this
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeIt(fn: () => Promise<unknown>, n = 15): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

t.test('stats and history pages cost the same at 100,000 rows as at 1,000', async (t) => {
  const pool = srv.deps.pool;
  await insertRows(pool, 'small-client-0000000000', 1000);
  await insertRows(pool, 'large-client-0000000000', 100_000);
  const cost = async (client: string) => ({
    stats: await timeIt(() => predictionStats(pool, client)),
    page: await timeIt(() => listPredictions(pool, client, {}, null, 20)),
    filtered: await timeIt(() => listPredictions(pool, client, { digit: 3 }, null, 20)),
  });
  const small = await cost('small-client-0000000000');
  const large = await cost('large-client-0000000000');
  for (const k of ['stats', 'page', 'filtered'] as const) {
    t.ok(large[k] < 4 * small[k] + 5, `${k}: ${large[k].toFixed(2)} ms at 100,000 rows, ${small[k].toFixed(2)} ms at 1,000 (median of 15)`);
  }
  const page = await listPredictions(pool, 'large-client-0000000000', { digit: 3 }, null, 20);
  t.equal(page.total, 10_000, 'the digit filter\'s total comes exact from the counters');
  t.equal(page.totalExact, true);
  const combo = await listPredictions(pool, 'large-client-0000000000', { digit: 3, status: 'unlabelled', source: 'upload', minConfidence: 0.6 }, null, 20);
  const exact = await pool.oneFirst(sql.type(z.object({ n: z.number().int() }))`
    SELECT count(*)::int AS n FROM predictions WHERE client_id = 'large-client-0000000000' AND digit = 3 AND true_label IS NULL AND source = 'upload' AND confidence >= 0.6`);
  t.same([combo.total, combo.totalExact], [exact, true], `digit + status + source + minConfidence: exact from the counters (${exact})`);
  const dated = await listPredictions(pool, 'large-client-0000000000', { from: new Date(Date.now() - 86_400_000 * 30) }, null, 20);
  t.same([dated.total, dated.totalExact], [10_000, false], 'a date range: counted up to the cap');
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET LOCAL statement_timeout = 0`);
    await tx.query(sql.unsafe`DELETE FROM predictions WHERE client_id IN ('small-client-0000000000', 'large-client-0000000000')`);
  });
});

/** The stats computed straight from the table, exactly (what the counters must agree with). */
async function exactStats(pool: DatabasePool, scope: string | null) {
  const where = scope === null ? sql.fragment`` : sql.fragment`WHERE client_id = ${scope}`;
  const rows = await pool.any(sql.type(z.object({ digit: z.number(), true_label: z.number().nullable(), total_ms: z.number(), day: z.string() }))`
    SELECT digit, true_label, total_ms, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM predictions ${where}`);
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  const byDigit = new Array<number>(10).fill(0);
  const days = new Map<string, number>();
  let labelled = 0;
  let correct = 0;
  for (const r of rows) {
    byDigit[r.digit]++;
    days.set(r.day, (days.get(r.day) ?? 0) + 1);
    if (r.true_label !== null) {
      labelled++;
      if (r.true_label === r.digit) correct++;
      confusion[r.true_label][r.digit]++;
    }
  }
  const ms = rows.map((r) => r.total_ms).sort((a, b) => a - b);
  const pct = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] : null);
  return { total: rows.length, labelled, correct, confusion, byDigit, days, p50: pct(0.5), p99: pct(0.99) };
}

t.test('the counters agree with the table after inserts, labels, deletes and clears', async (t) => {
  const pool = srv.deps.pool;
  const image = await canvasSevenPng();
  const a = new Client(srv.url);
  const b = new Client(srv.url);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push((await (i % 3 ? a : b).png(`/api/predictions?source=${i % 2 ? 'upload' : 'canvas'}`, image)).json.id);
  await insertRows(pool, 'bulk-client-00000000000', 500);
  const aIds = ids.filter((_, i) => i % 3);
  await a.json('PUT', `/api/predictions/${aIds[0]}/feedback`, { label: 7 });
  await a.json('PUT', `/api/predictions/${aIds[1]}/feedback`, { label: 1 });
  await a.json('PUT', `/api/predictions/${aIds[1]}/feedback`, { label: 2 }); // relabelled
  await a.req('DELETE', `/api/predictions/${aIds[2]}`);
  await b.req('DELETE', '/api/predictions'); // b clears everything
  await pool.query(sql.unsafe`UPDATE predictions SET true_label = NULL WHERE client_id = 'bulk-client-00000000000' AND digit = 4`);
  await pool.query(sql.unsafe`DELETE FROM predictions WHERE client_id = 'bulk-client-00000000000' AND digit = 5`);
  const clientA = a.cookie.split('=')[1];
  for (const [name, scope] of [['client a', clientA], ['bulk client', 'bulk-client-00000000000'], ['all clients', null]] as const) {
    const got = await predictionStats(pool, scope);
    const want = await exactStats(pool, scope);
    t.equal(got.total, want.total, `${name}: total ${want.total}`);
    t.equal(got.labelled, want.labelled, `${name}: labelled`);
    t.equal(got.correct, want.correct, `${name}: correct`);
    t.same(got.confusion, want.confusion, `${name}: confusion`);
    t.same(got.byDigit, want.byDigit, `${name}: by digit`);
    t.same(Object.fromEntries(got.perDay.map((d) => [d.day, d.count])), Object.fromEntries([...want.days].filter(([d]) => d >= new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10))), `${name}: per day`);
    for (const [k, w] of [['p50', want.p50], ['p99', want.p99]] as const) {
      const g = got.latency[k];
      t.ok(w === null ? g === null : g !== null && Math.abs(g - w) <= 0.16 * w + 0.05, `${name}: latency ${k} ${g?.toFixed(3)} vs exact ${w?.toFixed(3)}`);
    }
  }
  const b2 = await predictionStats(pool, b.cookie.split('=')[1]);
  t.equal(b2.total, 0, 'a cleared client has nothing left');
  await pool.query(sql.unsafe`DELETE FROM predictions`);
  t.equal((await predictionStats(pool, null)).total, 0, 'the admin\'s clear-all leaves the counters at zero');
});
