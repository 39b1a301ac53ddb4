// Stats, the model card, health, readiness, Prometheus metrics, the OpenAPI document.
import type Router from '@koa/router';
import { predictionStats, ping } from '../db/predictions.ts';
import { ApiError } from '../errors.ts';
import { guardedQuery } from '../db/availability.ts';
import { withTimeout } from '../circuit-breaker.ts';
import { openApiDocument } from '../openapi.ts';
import type { AppDeps } from '../app-deps.ts';
import type { LoadedModel } from '../model.ts';
import { reloadModels } from '../model-reload.ts';

/** A model and its card, for GET /api/models. */
export function modelSummary(m: LoadedModel, isDefault: boolean) {
  const c = m.card;
  return {
    name: m.identity.name,
    version: m.identity.version,
    sha256: m.identity.sha256,
    default: isDefault,
    architecture: c.architecture,
    parameters: c.parameters ?? m.module.parameterCount(),
    temperature: c.temperature,
    notADigitDetector: m.ood ? { threshold: m.ood.file.threshold, minConfidence: m.ood.file.minConfidence, rates: (m.ood.file.fit as { rates?: unknown } | undefined)?.rates ?? null } : null,
    card: c,
  };
}

export function metaRoutes(router: Router, deps: AppDeps): void {
  router.get('/api/stats', async (ctx) => {
    ctx.body = await guardedQuery(deps.dbBreaker, deps.config.dbReadTimeoutMs, () => predictionStats(deps.pool, ctx.state.isAdmin ? null : ctx.state.clientId));
  });

  router.get('/api/models', (ctx) => {
    const def = deps.models.default.name;
    ctx.body = {
      default: def,
      reason: deps.models.reason,
      backend: deps.models.backendName,
      models: deps.models.list().map((e) => modelSummary(e.model, e.name === def)),
    };
  });

  router.post('/api/admin/reload', async (ctx) => {
    if (!ctx.state.isAdmin) throw new ApiError(403, 'forbidden', 'reloading models needs the admin token (Authorization: Bearer $INKLING_ADMIN_TOKEN); or send the process SIGHUP');
    const r = await reloadModels(deps);
    ctx.body = { ...r, default: deps.models.default.model.identity.version };
  });

  router.get('/api/model', (ctx) => {
    const c = deps.model.card;
    ctx.body = {
      name: deps.model.identity.name,
      version: deps.model.identity.version,
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
    deps.metrics.largeDecodesWaiting.set(deps.preprocess.largeWaiting);
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  router.get('/api/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });
}
