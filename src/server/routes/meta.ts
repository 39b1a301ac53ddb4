// Stats, the model card, health, readiness, Prometheus metrics, the OpenAPI document.
import type Router from '@koa/router';
import { predictionStats, ping } from '../db/predictions.ts';
import { ApiError } from '../errors.ts';
import { openApiDocument } from '../openapi.ts';
import type { AppDeps } from '../app.ts';

export function metaRoutes(router: Router, deps: AppDeps): void {
  router.get('/api/stats', async (ctx) => {
    try {
      ctx.body = await predictionStats(deps.pool, ctx.state.isAdmin ? null : ctx.state.clientId);
    } catch (err) {
      ctx.state.log.warn({ err: (err as Error).message }, 'stats query failed');
      throw new ApiError(503, 'database_unavailable', 'the database is unreachable right now; stats will be back when it returns');
    }
  });

  router.get('/api/model', (ctx) => {
    const c = deps.model.card;
    ctx.body = {
      name: c.name,
      version: c.version,
      architecture: c.architecture,
      architectureDetail: c.architectureDetail ?? null,
      parameters: c.parameters ?? deps.model.module.parameterCount(),
      accuracy: c.test?.accuracy ?? null,
      validationAccuracy: c.validation?.accuracy ?? null,
      temperature: c.temperature,
      backend: deps.model.backendName,
      batching: { maxBatch: deps.config.batchMax, maxWaitMs: deps.config.batchWaitMs },
    };
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    let database = true;
    try {
      await Promise.race([ping(deps.pool), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000).unref())]);
    } catch {
      database = false;
    }
    const ready = database && !deps.shuttingDown();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks: { model: true, database, spooledRows: deps.log.spool.size, shuttingDown: deps.shuttingDown() } };
  });

  router.get('/metrics', async (ctx) => {
    deps.metrics.dbUp.set(deps.log.up ? 1 : 0);
    deps.metrics.spoolRows.set(deps.log.spool.size);
    deps.metrics.spoolDropped.set(deps.log.spool.dropped);
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  router.get('/api/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });
}
