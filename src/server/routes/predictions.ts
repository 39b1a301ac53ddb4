// /api/predictions: create (POST), history (GET), feedback (PUT), delete one / all (DELETE).
// Handlers are thin: input parsing (image-input.ts), preprocessing (src/preprocess), batched
// inference (inference-batcher.ts), batched logging (prediction-log.ts), queries (db/).
import { randomUUID } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { normalizeMnist, UnsupportedImageError, ImageTooLargeError, ImageDecodeError, type PreprocessResult } from '../../preprocess/index.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { readImageInput, type Source } from '../image-input.ts';
import { readBody } from '../request-body.ts';
import { clearPredictions, deletePrediction, getPrediction, listPredictions, setLabel, type HistoryRow, type Cursor, type PredictionRow } from '../db/predictions.ts';
import type { AppDeps } from '../app.ts';
import type { BatchAnswer } from '../inference-batcher.ts';
import { guardedQuery } from '../db/availability.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const scopeOf = (ctx: Context): string | null => (ctx.state.isAdmin ? null : ctx.state.clientId);
const pngDataUrl = (b: Buffer) => `data:image/png;base64,${b.toString('base64')}`;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

const withDb = <T>(deps: AppDeps, fn: () => Promise<T>): Promise<T> => guardedQuery(deps.dbBreaker, deps.config.dbReadTimeoutMs, fn);

export function historyItem(r: HistoryRow) {
  return {
    id: r.id,
    createdAt: new Date(r.created_at).toISOString(),
    source: r.source,
    digit: r.digit,
    confidence: round(r.confidence, 5),
    probabilities: r.probabilities.map((p) => round(p, 5)),
    label: r.true_label,
    correct: r.true_label === null ? null : r.true_label === r.digit,
    modelVersion: r.model_version,
    uncertain: r.uncertain_reason !== null,
    reason: r.uncertain_reason,
    totalMs: round(r.total_ms),
    thumbnail: pngDataUrl(r.thumbnail_png),
    input: pngDataUrl(r.input_png),
  };
}

const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  digit: z.coerce.number().int().min(0).max(9).optional(),
  status: z.enum(['correct', 'incorrect', 'unlabelled', 'labelled']).optional(),
  source: z.enum(['canvas', 'upload', 'url']).optional(),
  minConfidence: z.coerce.number().min(0).max(1).optional(),
  from: z.string().datetime({ offset: true }).or(z.string().date()).optional(),
  to: z.string().datetime({ offset: true }).or(z.string().date()).optional(),
}).strict();

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.createdAtMs}:${c.id}`).toString('base64url');
}

function decodeCursor(s: string): Cursor {
  const m = /^(\d{1,15}):([0-9a-f-]{36})$/.exec(Buffer.from(s, 'base64url').toString('utf8'));
  if (!m || !UUID.test(m[2])) throw badRequest('invalid_query', 'cursor is not one this server returned (use nextCursor from the previous page)');
  return { createdAtMs: Number(m[1]), id: m[2] };
}

function mapPreprocessError(err: unknown): never {
  if (err instanceof UnsupportedImageError) throw new ApiError(415, 'unsupported_media_type', err.message);
  if (err instanceof ImageTooLargeError) throw new ApiError(413, 'image_too_large', err.message);
  if (err instanceof ImageDecodeError) throw new ApiError(400, 'invalid_image', err.message);
  throw err;
}

/** `?model=NAME` picks a served model; absent, the default. Held until the answer is sent, so a
 *  reload meanwhile cannot free it (the caller releases it). */
export function pickModel(deps: AppDeps, ctx: Context) {
  const name = ctx.query.model;
  const held = name === undefined ? deps.models.acquire() : typeof name === 'string' ? deps.models.acquire(name) : null;
  if (!held) throw new ApiError(404, 'unknown_model', `no model named ${JSON.stringify(name)}; served models: ${deps.models.names.join(', ')} (GET /api/models)`);
  return held;
}

export type ServedModel = ReturnType<typeof pickModel>['entry'];

/** The answer when neither the database nor the spool could take the prediction(s): nothing was
 *  kept, so nothing is acknowledged (issue 14, D2). */
export const storageUnavailable = (n: number) =>
  new ApiError(503, 'storage_unavailable', `${n === 1 ? 'the prediction' : `the ${n} predictions`} could not be stored (the database is unreachable and the spool is full); nothing was acknowledged, retry later`, { 'Retry-After': '5' });
export const storageFailed = () => new ApiError(500, 'storage_failed', 'the database refused to store this prediction (see the server log for the request id)');

export interface Classified {
  pre: PreprocessResult & { frame: NonNullable<PreprocessResult['frame']>; inputPng: Buffer };
  probabilities: Float32Array | number[];
  inferenceMs: number;
  digit: number;
  ood: BatchAnswer['ood'];
}

/** Bytes to digit: preprocessing (inline when `alone`, else in the worker threads), then the
 *  model's batched forward pass (with its not-a-digit verdict). Throws the API's 4xx for
 *  undecodable, too large and blank images. */
export async function classify(deps: AppDeps, entry: ServedModel, bytes: Buffer, alone: boolean): Promise<Classified> {
  let pre: PreprocessResult;
  try {
    pre = await deps.preprocess.run(bytes, deps.config.maxPixels, alone);
  } catch (err) {
    mapPreprocessError(err);
  }
  if (!pre.frame || !pre.inputPng) {
    deps.metrics.noDigit.inc();
    throw new ApiError(422, 'no_digit', 'no digit found: the image looks blank (no ink that stands out from the background)');
  }
  const { probabilities, inferenceMs, ood } = await entry.runner.predict(normalizeMnist(pre.frame));
  let digit = 0;
  for (let i = 1; i < 10; i++) if (probabilities[i] > probabilities[digit]) digit = i;
  return { pre: pre as Classified['pre'], probabilities, inferenceMs, digit, ood };
}

export function predictionRow(entry: ServedModel, clientId: string, source: Source, c: Classified, totalMs: number): PredictionRow {
  return {
    id: randomUUID(),
    createdAt: new Date(),
    clientId,
    source,
    digit: c.digit,
    confidence: c.probabilities[c.digit],
    probabilities: Array.from(c.probabilities),
    modelVersion: entry.model.identity.version,
    uncertainReason: c.ood?.reason ?? null,
    decodeMs: c.pre.decodeMs,
    preprocessMs: c.pre.preprocessMs,
    inferenceMs: c.inferenceMs,
    totalMs,
    inputPng: c.pre.inputPng,
    thumbnailPng: c.pre.thumbnailPng,
  };
}

/** The 201 answer for one prediction (also each item of a batch). */
export function predictionBody(model: string, row: PredictionRow, c: Classified, logged: boolean) {
  return {
    id: row.id,
    digit: row.digit,
    confidence: round(row.confidence, 6),
    probabilities: row.probabilities.map((p) => round(p, 6)),
    uncertain: c.ood?.uncertain ?? false,
    reason: c.ood?.reason ?? null,
    message: c.ood?.message ?? null,
    model,
    modelVersion: row.modelVersion,
    input: pngDataUrl(row.inputPng),
    timings: { decodeMs: round(row.decodeMs), preprocessMs: round(row.preprocessMs), inferenceMs: round(row.inferenceMs), totalMs: round(row.totalMs) },
    logged,
  };
}

export function predictionRoutes(router: Router, deps: AppDeps): void {
  // POSTs being handled right now: a lone one is preprocessed inline (lowest latency), overlapping
  // ones in the preprocessing threads (throughput; see preprocess-pool.ts).
  let inFlight = 0;
  router.post('/api/predictions', async (ctx) => {
    inFlight++;
    try {
      await createPrediction(ctx, inFlight === 1);
    } finally {
      inFlight--;
    }
  });

  async function createPrediction(ctx: Context, alone: boolean): Promise<void> {
    const t0 = performance.now();
    const held = pickModel(deps, ctx);
    try {
      const input = await readImageInput(ctx, deps.body, deps.config.maxBodyBytes, deps.fetchPolicy);
      const result = await classify(deps, held.entry, input.bytes, alone);
      const row = predictionRow(held.entry, ctx.state.clientId, input.source, result, performance.now() - t0);
      const outcome = await deps.log.write(row);
      if (outcome === 'unavailable') {
        deps.metrics.refused.inc();
        throw storageUnavailable(1);
      }
      if (outcome === 'rejected') throw storageFailed();
      const logged = outcome === 'stored';
      deps.metrics.predictions.inc({ digit: String(row.digit), logged: String(logged) });
      ctx.status = 201;
      ctx.set('Location', `/api/predictions/${row.id}`);
      ctx.body = predictionBody(held.entry.name, row, result, logged);
    } finally {
      held.release();
    }
  }

  router.get('/api/predictions', async (ctx) => {
    const q = historyQuery.safeParse(ctx.query);
    if (!q.success) {
      const i = q.error.issues[0];
      throw badRequest('invalid_query', `${i.path.join('.') || 'query'}: ${i.message}`);
    }
    const { limit, cursor, from, to, ...filters } = q.data;
    const page = await withDb(deps, () =>
      listPredictions(deps.pool, scopeOf(ctx), { ...filters, from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined }, cursor ? decodeCursor(cursor) : null, limit),
    );
    const last = page.rows[page.rows.length - 1];
    ctx.body = {
      items: page.rows.map(historyItem),
      nextCursor: page.hasMore && last ? encodeCursor({ createdAtMs: Math.round(last.created_at), id: last.id }) : null,
      total: page.total,
      totalExact: page.totalExact,
    };
  });

  router.get('/api/predictions/:id', async (ctx) => {
    const id = ctx.params.id;
    if (!UUID.test(id)) throw notFound();
    const row = await withDb(deps, () => getPrediction(deps.pool, scopeOf(ctx), id));
    if (!row) throw notFound();
    ctx.body = historyItem(row);
  });

  router.put('/api/predictions/:id/feedback', async (ctx) => {
    const type = (ctx.get('content-type') || '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new ApiError(415, 'unsupported_media_type', 'send JSON: {"label": 0..9}');
    const text = await readBody(ctx, deps.body, 1024);
    let json: unknown;
    try {
      json = JSON.parse(text.toString('utf8'));
    } catch {
      throw badRequest('invalid_json', 'the body is not valid JSON; send {"label": 0..9}');
    }
    const parsed = z.object({ label: z.number().int().min(0).max(9) }).strict().safeParse(json);
    if (!parsed.success) throw badRequest('invalid_label', 'label must be an integer from 0 to 9: {"label": 7}');
    const id = ctx.params.id;
    if (!UUID.test(id)) throw notFound();
    const ok = await withDb(deps, () => setLabel(deps.pool, scopeOf(ctx), id, parsed.data.label));
    if (!ok) throw notFound();
    const row = await withDb(deps, () => getPrediction(deps.pool, scopeOf(ctx), id));
    if (!row) throw notFound();
    ctx.body = historyItem(row);
  });

  router.delete('/api/predictions/:id', async (ctx) => {
    const id = ctx.params.id;
    if (!UUID.test(id)) throw notFound();
    const ok = await withDb(deps, () => deletePrediction(deps.pool, scopeOf(ctx), id));
    if (!ok) throw notFound();
    ctx.status = 204;
  });

  router.delete('/api/predictions', async (ctx) => {
    const deleted = await withDb(deps, () => clearPredictions(deps.pool, scopeOf(ctx)));
    ctx.body = { deleted };
  });
}
