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

export async function listPredictions(
  db: DatabasePool,
  scope: string | null,
  filters: HistoryFilters,
  cursor: Cursor | null,
  limit: number,
): Promise<{ rows: HistoryRow[]; total: number; hasMore: boolean }> {
  const [rows, total] = await Promise.all([
    db.any(sql.type(historyRowSchema)`
      SELECT id, (extract(epoch from created_at) * 1000)::float8 AS created_at, source, digit, confidence, probabilities,
             true_label, model_version, uncertain_reason, total_ms, input_png, thumbnail_png
      FROM predictions ${whereClause(scope, filters, cursor)}
      ORDER BY created_at DESC, id DESC
      LIMIT ${limit + 1}`),
    db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
      SELECT count(*)::int AS count FROM predictions ${whereClause(scope, filters, null)}`),
  ]);
  return { rows: rows.slice(0, limit), total, hasMore: rows.length > limit };
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

export async function predictionStats(db: DatabasePool, scope: string | null, days = 30): Promise<Stats> {
  const where = scope !== null ? sql.fragment`WHERE client_id = ${scope}` : sql.fragment``;
  const and = scope !== null ? sql.fragment`AND client_id = ${scope}` : sql.fragment``;
  const [totals, confusionRows, dayRows, digitRows] = await Promise.all([
    db.one(sql.type(z.object({
      total: z.number().int(), labelled: z.number().int(), correct: z.number().int(),
      p50: z.number().nullable(), p90: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable(),
    }))`
      SELECT count(*)::int AS total,
             count(true_label)::int AS labelled,
             count(*) FILTER (WHERE true_label = digit)::int AS correct,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms) AS p50,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY total_ms) AS p90,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms) AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY total_ms) AS p99
      FROM predictions ${where}`),
    db.any(sql.type(z.object({ true_label: z.number().int(), digit: z.number().int(), n: z.number().int() }))`
      SELECT true_label, digit, count(*)::int AS n FROM predictions
      WHERE true_label IS NOT NULL ${and} GROUP BY true_label, digit`),
    db.any(sql.type(z.object({ day: z.string(), n: z.number().int() }))`
      SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS n
      FROM predictions WHERE created_at >= now() - make_interval(days => ${days}) ${and}
      GROUP BY 1 ORDER BY 1`),
    db.any(sql.type(z.object({ digit: z.number().int(), n: z.number().int() }))`
      SELECT digit, count(*)::int AS n FROM predictions ${where} GROUP BY digit`),
  ]);
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  for (const r of confusionRows) confusion[r.true_label][r.digit] = r.n;
  const byDigit = new Array<number>(10).fill(0);
  for (const r of digitRows) byDigit[r.digit] = r.n;
  return {
    total: totals.total,
    labelled: totals.labelled,
    correct: totals.correct,
    accuracy: totals.labelled > 0 ? totals.correct / totals.labelled : null,
    confusion,
    perDay: dayRows.map((r) => ({ day: r.day, count: r.n })),
    latency: { p50: totals.p50, p90: totals.p90, p95: totals.p95, p99: totals.p99 },
    byDigit,
  };
}

export async function ping(db: DatabasePool): Promise<void> {
  await db.oneFirst(sql.type(z.object({ ok: z.number() }))`SELECT 1 AS ok`);
}
