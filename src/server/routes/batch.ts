// POST /api/predictions/batch: up to 256 images in one request (batch-input.ts), one result per
// image in the order sent, every prediction logged in ONE INSERT. A bad image fails alone: its
// item carries the error the single-image endpoint would have answered. The request's 200 holds a
// 201 item for each prediction stored (committed, or synced to the spool); when the rows cannot
// be stored the whole request is 503 with Retry-After and no prediction is acknowledged.
import type Router from '@koa/router';
import { ApiError } from '../errors.ts';
import { readBatchInput } from '../batch-input.ts';
import { classify, pickModel, predictionBody, predictionRow, storageFailed, storageUnavailable, type Classified } from './predictions.ts';
import type { AppDeps } from '../app.ts';

/** Images classified at once: enough to keep the preprocessing threads and the batcher fed,
 *  few enough that 256 large photos never sit decoded in memory together. */
const CONCURRENCY = 8;

export function batchRoutes(router: Router, deps: AppDeps): void {
  router.post('/api/predictions/batch', async (ctx) => {
    const t0 = performance.now();
    const held = pickModel(deps, ctx);
    try {
      const { items, source } = await readBatchInput(ctx, deps.body, deps.config.maxBodyBytes);
      const outcomes: (Classified | ApiError)[] = new Array(items.length);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < items.length; i = next++) {
          const item = items[i];
          if ('error' in item) {
            outcomes[i] = item.error;
            continue;
          }
          try {
            outcomes[i] = await classify(deps, held.entry, item.bytes, false);
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            outcomes[i] = err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
      const totalMs = performance.now() - t0;
      const rows = outcomes.map((o) => (o instanceof ApiError ? null : predictionRow(held.entry, ctx.state.clientId, source, o, totalMs)));
      const created = rows.filter((r) => r !== null);
      const stored = await deps.log.writeMany(created);
      if (stored.includes('unavailable')) {
        deps.metrics.refused.inc(created.length);
        throw storageUnavailable(created.length);
      }
      const outcomeById = new Map(created.map((r, i) => [r.id, stored[i]]));
      for (const r of created) {
        if (outcomeById.get(r.id) !== 'rejected') deps.metrics.predictions.inc({ digit: String(r.digit), logged: String(outcomeById.get(r.id) === 'stored') });
      }
      ctx.status = 200;
      const answered = outcomes.map((o, index) => {
        const row = rows[index];
        const e = o instanceof ApiError ? o : row && outcomeById.get(row.id) === 'rejected' ? storageFailed() : null;
        if (e || !row) return { index, status: e!.status, error: { code: e!.code, message: e!.message } };
        return { index, status: 201, prediction: predictionBody(held.entry.name, row, o as Classified, outcomeById.get(row.id) === 'stored') };
      });
      const succeeded = answered.filter((a) => a.status === 201).length;
      ctx.body = { count: items.length, succeeded, failed: items.length - succeeded, items: answered };
    } finally {
      held.release();
    }
  });
}
