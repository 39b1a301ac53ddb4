// npm run bench:history — the cost of /api/stats and history pages at 1M rows (issue 14, D12).
//
// A fresh PostgreSQL (durable settings, in a temp dir) with the service's migrations gets
// BENCH_ROWS (default 1,000,000) synthetic predictions of one client and 10,000 of another (every
// 7th labelled, small image columns), is ANALYZEd, and then each query the two endpoints make runs
// BENCH_CALLS times (default 30, after 3 warm-ups) through the service's own functions
// (src/server/db/predictions.ts): stats, the first history page, a page half-way down (keyset
// cursor), a page filtered by digit, one with two filters (digit + status), and one with a date
// range (whose total is counted by a scan capped at 10,000). Prints the median
// and p90 in ms per query and client size, the CPU and the load average.
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { startLocalPostgres } from '../src/server/db/local-postgres.ts';
import { connectPool } from '../src/server/db/pool.ts';
import { migrate } from '../src/server/db/migrate.ts';
import { predictionStats, listPredictions, type Cursor } from '../src/server/db/predictions.ts';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const calls = Number(process.env.BENCH_CALLS ?? 30);

async function insertRows(pool: DatabasePool, client: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 100_000) {
    const count = Math.min(100_000, n - start);
    await pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SET LOCAL statement_timeout = 0`);
      await tx.query(sql.unsafe`
        INSERT INTO predictions (id, created_at, client_id, source, digit, confidence, probabilities, true_label, model_version,
                                 decode_ms, preprocess_ms, inference_ms, total_ms, input_png, thumbnail_png)
        SELECT gen_random_uuid(), now() - make_interval(secs => (i * 0.5)::float8), ${client}, (ARRAY['canvas','upload','url'])[1 + i % 3], (i % 10)::smallint,
               0.5 + (i % 50) / 100.0, array_fill(0.1::real, ARRAY[10]), CASE WHEN i % 7 = 0 THEN ((i / 7) % 10)::smallint END, 'bench',
               0.2, 0.4, 0.3, 0.5 + (i % 97) / 10.0, decode(repeat('89504e47', 40), 'hex'), decode(repeat('89504e47', 200), 'hex')
        FROM generate_series(${start + 1}::int, ${start + count}::int) AS i`);
    });
  }
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `p50 ${at(0.5).toFixed(2).padStart(8)} ms   p90 ${at(0.9).toFixed(2).padStart(8)} ms`;
}

async function timeIt(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** The query's figures, or why it has none (a statement timeout: the service's is 5 s). */
async function measured(fn: () => Promise<unknown>): Promise<string> {
  try {
    return summary(await timeIt(fn));
  } catch (err) {
    return `failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'inkling-bench-history-'));
  chmodSync(tmp, 0o755);
  const pg = await startLocalPostgres({ dataDir: join(tmp, 'pg') });
  const pool = await connectPool(pg.url, { syncCommit: true });
  try {
    await migrate(pool);
    const t0 = performance.now();
    await insertRows(pool, 'large-client-0000000000', rows);
    await insertRows(pool, 'small-client-0000000000', 10_000);
    await pool.query(sql.unsafe`ANALYZE predictions`);
    console.log(`loaded ${rows.toLocaleString('en')} + 10,000 rows in ${((performance.now() - t0) / 1000).toFixed(0)} s; CPU ${cpus()[0]?.model ?? '?'} x${cpus().length}; ${calls} calls per query`);
    for (const [label, client, n] of [['large', 'large-client-0000000000', rows], ['small', 'small-client-0000000000', 10_000]] as const) {
      const mid = await pool.one(sql.type(z.object({ ms: z.number(), id: z.string() }))`
        SELECT (extract(epoch from created_at) * 1000)::float8 AS ms, id::text AS id FROM predictions WHERE client_id = ${client}
        ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(n / 2)} LIMIT 1`);
      const cursor: Cursor = { createdAtMs: Math.round(mid.ms), id: mid.id };
      const queries: [string, () => Promise<unknown>][] = [
        ['stats', () => predictionStats(pool, client)],
        ['history, first page', () => listPredictions(pool, client, {}, null, 20)],
        ['history, page half-way down', () => listPredictions(pool, client, {}, cursor, 20)],
        ['history, digit filter', () => listPredictions(pool, client, { digit: 3 }, null, 20)],
        ['history, digit + status', () => listPredictions(pool, client, { digit: 3, status: 'labelled' }, null, 20)],
        ['history, last 30 days', () => listPredictions(pool, client, { from: new Date(Date.now() - 30 * 86_400_000) }, null, 20)],
      ];
      for (const [name, fn] of queries) console.log(`${label} client (${n.toLocaleString('en')} rows)  ${name.padEnd(28)} ${await measured(fn)}`);
    }
    console.log(`admin (all rows)  stats                        ${await measured(() => predictionStats(pool, null))}`);
    console.log(`load average (1 min): ${loadavg()[0].toFixed(2)}`);
  } finally {
    await pool.end();
    await pg.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
