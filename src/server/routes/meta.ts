// Stats, the model card, health, readiness, Prometheus metrics, the OpenAPI document.
import type Router from '@koa/router';
import { predictionStats, ping } from '../db/predictions.ts';
import { guardedQuery } from '../db/availability.ts';
import { withTimeout } from '../circuit-breaker.ts';
import { openApiDocument } from '../openapi.ts';
import type { AppDeps } from '../app.ts';

export function metaRoutes(router: Router, deps: AppDeps): void {
  router.get('/api/stats', async (ctx) => {
    ctx.body = await guardedQuery(deps.dbBreaker, deps.config.dbReadTimeoutMs, () => predictionStats(deps.pool, ctx.state.isAdmin ? null : ctx.state.clientId));
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
    let database = !deps.dbBreaker.isOpen;
    if (database) {
      try {
        await withTimeout(ping(deps.pool), 1000, 'the database');
      } catch {
        database = false;
      }
    }
    const ready = database && !deps.shuttingDown();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks: { model: true, database, spooledRows: deps.log.spool.size, spoolBytes: deps.log.spool.bytes, shuttingDown: deps.shuttingDown() } };
  });

  router.get('/metrics', async (ctx) => {
    deps.metrics.dbUp.set(deps.dbBreaker.isOpen ? 0 : 1);
    deps.metrics.spoolRows.set(deps.log.spool.size);
    deps.metrics.spoolBytes.set(deps.log.spool.bytes);
    deps.metrics.bodyBytes.set(deps.body.budget.inFlight);
    deps.metrics.bodyBusy.set(deps.body.budget.refused);
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  router.get('/api/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });
}
