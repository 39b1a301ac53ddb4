// POST /api/predictions/batch: up to 256 images in one request (batch-input.ts), one result per
// image in the order sent, every prediction logged in ONE INSERT. A bad image fails alone: its
// item carries the error the single-image endpoint would have answered.
import type Router from '@koa/router';
import { ApiError } from '../errors.ts';
import { readBatchInput } from '../batch-input.ts';
import { classify, predictionBody, predictionRow, type Classified } from './predictions.ts';
import type { AppDeps } from '../app.ts';

/** Images classified at once: enough to keep the preprocessing threads and the batcher fed,
 *  few enough that 256 large photos never sit decoded in memory together. */
const CONCURRENCY = 8;

export function batchRoutes(router: Router, deps: AppDeps): void {
  router.post('/api/predictions/batch', async (ctx) => {
    const t0 = performance.now();
    const { items, source } = await readBatchInput(ctx, deps.config.maxBodyBytes);
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
          outcomes[i] = await classify(deps, item.bytes, false);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          outcomes[i] = err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
    const totalMs = performance.now() - t0;
    const rows = outcomes.map((o) => (o instanceof ApiError ? null : predictionRow(deps, ctx.state.clientId, source, o, totalMs)));
    const created = rows.filter((r) => r !== null);
    const logged = await deps.log.writeMany(created);
    const loggedById = new Map(created.map((r, i) => [r.id, logged[i]]));
    for (const r of created) deps.metrics.predictions.inc({ digit: String(r.digit), logged: String(loggedById.get(r.id)) });
    ctx.status = 200;
    ctx.body = {
      count: items.length,
      succeeded: created.length,
      failed: items.length - created.length,
      items: outcomes.map((o, index) => {
        const row = rows[index];
        if (o instanceof ApiError || row === null) {
          const e = o as ApiError;
          return { index, status: e.status, error: { code: e.code, message: e.message } };
        }
        return { index, status: 201, prediction: predictionBody(row, loggedById.get(row.id)!) };
      }),
    };
  });
}
