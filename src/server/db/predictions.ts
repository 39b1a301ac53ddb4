// The predictions table through Slonik: every query typed with sql.type(zod schema) and validated
// by the result-parser interceptor. Scope: a client id, or null for the admin (all rows).
import { sql, type DatabasePool, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

export interface PredictionRow {
  id: string;
  createdAt: Date;
  clientId: string;
  source: 'canvas' | 'upload' | 'url';
  digit: number;
  confidence: number;
  probabilities: number[];
  modelVersion: string;
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  totalMs: number;
  inputPng: Buffer;
  thumbnailPng: Buffer;
  /** Why the answer was flagged uncertain (src/model/ood.ts); null/absent when it was not. */
  uncertainReason?: 'not_a_digit' | 'low_confidence' | null;
}

/** For statements that return no rows (INSERT/UPDATE/DELETE without RETURNING). */
const noRows = z.object({}).strict();

export const historyRowSchema = z.object({
  id: z.string().uuid(),
  created_at: z.number(),
  source: z.enum(['canvas', 'upload', 'url']),
  digit: z.number().int().min(0).max(9),
  confidence: z.number(),
  probabilities: z.array(z.number()).length(10),
  true_label: z.number().int().min(0).max(9).nullable(),
  model_version: z.string(),
  uncertain_reason: z.string().nullable(),
  total_ms: z.number(),
  input_png: z.instanceof(Buffer),
  thumbnail_png: z.instanceof(Buffer),
});
export type HistoryRow = z.infer<typeof historyRowSchema>;

export interface HistoryFilters {
  digit?: number;
  status?: 'correct' | 'incorrect' | 'unlabelled' | 'labelled';
  source?: 'canvas' | 'upload' | 'url';
  minConfidence?: number;
  from?: Date;
  to?: Date;
}

export interface Cursor {
  createdAtMs: number;
  id: string;
}

/** Multi-row INSERT of a batch (one statement per flush). Idempotent on id, so a replayed spool
 *  never duplicates a row. */
export async function insertPredictions(db: CommonQueryMethods, rows: PredictionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((r) => sql.fragment`(
    ${sql.uuid(r.id)}, ${sql.timestamp(r.createdAt)}, ${r.clientId}, ${r.source}, ${r.digit}, ${r.confidence},
    ${sql.array(r.probabilities, 'float4')}, ${r.modelVersion}, ${r.decodeMs}, ${r.preprocessMs}, ${r.inferenceMs}, ${r.totalMs},
    ${sql.binary(r.inputPng)}, ${sql.binary(r.thumbnailPng)}, ${r.uncertainReason ?? null})`);
  await db.query(sql.type(noRows)`
    INSERT INTO predictions (id, created_at, client_id, source, digit, confidence, probabilities, model_version,
      decode_ms, preprocess_ms, inference_ms, total_ms, input_png, thumbnail_png, uncertain_reason)
    VALUES ${sql.join(values, sql.fragment`, `)}
    ON CONFLICT (id) DO NOTHING`);
}

function whereClause(scope: string | null, f: HistoryFilters, cursor: Cursor | null) {
  const conds = [];
  if (scope !== null) conds.push(sql.fragment`client_id = ${scope}`);
  if (f.digit !== undefined) conds.push(sql.fragment`digit = ${f.digit}`);
  if (f.source) conds.push(sql.fragment`source = ${f.source}`);
  if (f.minConfidence !== undefined) conds.push(sql.fragment`confidence >= ${f.minConfidence}`);
  if (f.from) conds.push(sql.fragment`created_at >= ${sql.timestamp(f.from)}`);
  if (f.to) conds.push(sql.fragment`created_at < ${sql.timestamp(f.to)}`);
  if (f.status === 'correct') conds.push(sql.fragment`true_label IS NOT NULL AND true_label = digit`);
  if (f.status === 'incorrect') conds.push(sql.fragment`true_label IS NOT NULL AND true_label <> digit`);
  if (f.status === 'unlabelled') conds.push(sql.fragment`true_label IS NULL`);
  if (f.status === 'labelled') conds.push(sql.fragment`true_label IS NOT NULL`);
  if (cursor) {
    conds.push(sql.fragment`(created_at, id) < (${sql.timestamp(new Date(cursor.createdAtMs))}, ${sql.uuid(cursor.id)})`);
  }
  return conds.length ? sql.fragment`WHERE ${sql.join(conds, sql.fragment` AND `)}` : sql.fragment``;
}

/** The most rows a history total counts by scanning (filters the counters cannot answer: a date
 *  range, a minConfidence off the 5% grid); past it the total is "at least" (totalExact false).
 *  Every other total is exact from the counters (sql/002_prediction_counts.sql). */
export const MAX_COUNTED_TOTAL = 10_000;

const counterRow = z.object({ kind: z.number().int(), key: z.number().int(), n: z.number() });

/** Counters of one client, or summed over all clients (scope null, the admin): kind -> key -> n. */
async function readCounters(db: CommonQueryMethods, scope: string | null, kinds: number[], fromDay = 0): Promise<Map<number, Map<number, number>>> {
  const wanted = sql.fragment`kind = ANY(${sql.array(kinds, 'int2')}) AND (kind <> 6 OR key >= ${fromDay})`;
  const rows = scope !== null
    ? await db.any(sql.type(counterRow)`
        SELECT kind, key, n::float8 AS n FROM prediction_counts WHERE scope = ${scope} AND ${wanted} AND n <> 0`)
    : await db.any(sql.type(counterRow)`
        SELECT kind, key, sum(n)::float8 AS n FROM prediction_counts WHERE ${wanted} GROUP BY kind, key HAVING sum(n) <> 0`);
  const out = new Map<number, Map<number, number>>();
  for (const r of rows) {
    if (!out.has(r.kind)) out.set(r.kind, new Map());
    out.get(r.kind)!.set(r.key, r.n);
  }
  return out;
}

/** A kind-8 cell's key, decoded (see the migration). */
interface Cell {
  confidence: number; // 0..20, 5% steps
  digit: number;
  source: 'canvas' | 'upload' | 'url';
  label: 'none' | 'correct' | 'incorrect';
}
const SOURCES = ['canvas', 'upload', 'url'] as const;
const LABELS = ['none', 'correct', 'incorrect'] as const;
function decodeCell(key: number): Cell {
  return { confidence: Math.floor(key / 1000), digit: Math.floor(key / 100) % 10, source: SOURCES[Math.floor(key / 10) % 10], label: LABELS[key % 10] };
}

/** The filter as a predicate on cells, or null when cells cannot answer it exactly. */
function cellPredicate(f: HistoryFilters): ((c: Cell) => boolean) | null {
  if (f.from || f.to) return null;
  let minStep = 0;
  if (f.minConfidence !== undefined) {
    minStep = Math.round(f.minConfidence * 20);
    if (Math.abs(f.minConfidence * 20 - minStep) > 1e-9) return null;
  }
  return (c) =>
    c.confidence >= minStep &&
    (f.digit === undefined || c.digit === f.digit) &&
    (f.source === undefined || c.source === f.source) &&
    (f.status === undefined ||
      (f.status === 'labelled' && c.label !== 'none') ||
      (f.status === 'unlabelled' && c.label === 'none') ||
      (f.status === 'correct' && c.label === 'correct') ||
      (f.status === 'incorrect' && c.label === 'incorrect'));
}

/** The exact total from the counters, or null when the filters need a scan. */
async function countedTotal(db: CommonQueryMethods, scope: string | null, f: HistoryFilters): Promise<number | null> {
  const matches = cellPredicate(f);
  if (!matches) return null;
  const cells = (await readCounters(db, scope, [8])).get(8) ?? new Map<number, number>();
  let total = 0;
  for (const [key, n] of cells) if (matches(decodeCell(key))) total += n;
  return total;
}

/** One page, newest first (keyset: an index range, whatever the table holds), and its total:
 *  exact from the counters where they answer, else counted up to MAX_COUNTED_TOTAL. */
export async function listPredictions(
  db: DatabasePool,
  scope: string | null,
  filters: HistoryFilters,
  cursor: Cursor | null,
  limit: number,
): Promise<{ rows: HistoryRow[]; total: number; totalExact: boolean; hasMore: boolean }> {
  const [rows, counted] = await Promise.all([
    db.any(sql.type(historyRowSchema)`
      SELECT id, (extract(epoch from created_at) * 1000)::float8 AS created_at, source, digit, confidence, probabilities,
             true_label, model_version, uncertain_reason, total_ms, input_png, thumbnail_png
      FROM predictions ${whereClause(scope, filters, cursor)}
      -- Qualified: a bare created_at here would be the output column (the epoch-ms expression
      -- above), and sorting by that cannot use the (client_id, created_at, id) index: every page
      -- then read and sorted all of the client's rows (issue 14, D12).
      ORDER BY predictions.created_at DESC, predictions.id DESC
      LIMIT ${limit + 1}`),
    countedTotal(db, scope, filters),
  ]);
  let total = counted;
  let totalExact = true;
  if (total === null) {
    total = await db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
      SELECT count(*)::int AS count FROM (SELECT 1 FROM predictions ${whereClause(scope, filters, null)} LIMIT ${MAX_COUNTED_TOTAL + 1}) AS capped`);
    if (total > MAX_COUNTED_TOTAL) {
      total = MAX_COUNTED_TOTAL;
      totalExact = false;
    }
  }
  return { rows: rows.slice(0, limit), total, totalExact, hasMore: rows.length > limit };
}

export async function getPrediction(db: DatabasePool, scope: string | null, id: string): Promise<HistoryRow | null> {
  return db.maybeOne(sql.type(historyRowSchema)`
    SELECT id, (extract(epoch from created_at) * 1000)::float8 AS created_at, source, digit, confidence, probabilities,
           true_label, model_version, uncertain_reason, total_ms, input_png, thumbnail_png
    FROM predictions WHERE id = ${sql.uuid(id)} ${scope !== null ? sql.fragment`AND client_id = ${scope}` : sql.fragment``}`);
}

export async function setLabel(db: DatabasePool, scope: string | null, id: string, label: number): Promise<boolean> {
  const r = await db.query(sql.type(noRows)`
    UPDATE predictions SET true_label = ${label}
    WHERE id = ${sql.uuid(id)} ${scope !== null ? sql.fragment`AND client_id = ${scope}` : sql.fragment``}`);
  return r.rowCount > 0;
}

export async function deletePrediction(db: DatabasePool, scope: string | null, id: string): Promise<boolean> {
  const r = await db.query(sql.type(noRows)`
    DELETE FROM predictions
    WHERE id = ${sql.uuid(id)} ${scope !== null ? sql.fragment`AND client_id = ${scope}` : sql.fragment``}`);
  return r.rowCount > 0;
}

export async function clearPredictions(db: DatabasePool, scope: string | null): Promise<number> {
  const r = await db.query(sql.type(noRows)`
    DELETE FROM predictions ${scope !== null ? sql.fragment`WHERE client_id = ${scope}` : sql.fragment``}`);
  return r.rowCount;
}

export async function countPredictions(db: DatabasePool): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`SELECT count(*)::int AS count FROM predictions`);
}

export interface Stats {
  total: number;
  labelled: number;
  correct: number;
  accuracy: number | null;
  confusion: number[][];
  perDay: { day: string; count: number }[];
  latency: { p50: number | null; p90: number | null; p95: number | null; p99: number | null };
  byDigit: number[];
}

/** Bucket b of the latency histogram covers (LATENCY_BASE * LATENCY_RATIO^(b-1), LATENCY_BASE *
 *  LATENCY_RATIO^b] ms (sql/002_prediction_counts.sql, prediction_latency_bucket). */
const LATENCY_BASE = 0.05;
const LATENCY_RATIO = 1.15;

/** The p-th percentile of a bucketed histogram, interpolated geometrically inside its bucket. */
export function histogramPercentile(buckets: Map<number, number>, p: number): number | null {
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const total = keys.reduce((a, k) => a + buckets.get(k)!, 0);
  if (total <= 0) return null;
  const rank = p * total;
  let seen = 0;
  for (const k of keys) {
    const n = buckets.get(k)!;
    if (seen + n >= rank) {
      const hi = LATENCY_BASE * LATENCY_RATIO ** k;
      if (k === 0) return hi;
      const within = n > 0 ? Math.min(1, Math.max(0, (rank - seen) / n)) : 1;
      return (hi / LATENCY_RATIO) * LATENCY_RATIO ** within;
    }
    seen += n;
  }
  return LATENCY_BASE * LATENCY_RATIO ** keys[keys.length - 1];
}

/** Stats from the counters only: a few hundred rows read by primary key, however many
 *  predictions the scope holds. Latency percentiles come from a 15%-wide histogram (interpolated;
 *  within a few percent of the exact ones). */
export async function predictionStats(db: DatabasePool, scope: string | null, days = 30): Promise<Stats> {
  const today = Math.floor(Date.now() / 86_400_000);
  const c = await readCounters(db, scope, [4, 5, 6, 8], today - (days - 1));
  let total = 0;
  let labelled = 0;
  let correct = 0;
  const byDigit = new Array<number>(10).fill(0);
  for (const [key, n] of c.get(8) ?? []) {
    const cell = decodeCell(key);
    total += n;
    byDigit[cell.digit] += n;
    if (cell.label !== 'none') labelled += n;
    if (cell.label === 'correct') correct += n;
  }
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  for (const [key, n] of c.get(4) ?? []) confusion[Math.floor(key / 10)][key % 10] = n;
  const perDay = [...(c.get(6) ?? [])].sort(([a], [b]) => a - b).map(([day, count]) => ({ day: new Date(day * 86_400_000).toISOString().slice(0, 10), count }));
  const latency = c.get(5) ?? new Map<number, number>();
  return {
    total,
    labelled,
    correct,
    accuracy: labelled > 0 ? correct / labelled : null,
    confusion,
    perDay,
    latency: { p50: histogramPercentile(latency, 0.5), p90: histogramPercentile(latency, 0.9), p95: histogramPercentile(latency, 0.95), p99: histogramPercentile(latency, 0.99) },
    byDigit,
  };
}

export async function ping(db: DatabasePool): Promise<void> {
  await db.oneFirst(sql.type(z.object({ ok: z.number() }))`SELECT 1 AS ok`);
}
