// Builds the Koa app from its dependencies (config, pool, model, batcher, log, metrics). No I/O
// here: server.ts creates the dependencies and listens.
import Koa from 'koa';
import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { LoadedModel } from './model.ts';
import type { InferenceBatcher } from './inference-batcher.ts';
import type { ModelRegistry } from '../model/registry.ts';
import type { PreprocessPool } from './preprocess-pool.ts';
import type { PredictionLog } from './prediction-log.ts';
import type { Metrics } from './metrics.ts';
import type { FetchPolicy } from './url-fetch.ts';
import type { BodyLimits } from './request-body.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { errorMiddleware } from './errors.ts';
import { requestContext, securityHeaders, contentSecurityPolicy, identity, closeWhenShuttingDown } from './middleware.ts';
import { RateLimiter, rateLimit } from './rate-limit.ts';
import { staticFiles, inlineScripts, WEB_DIR } from './static-files.ts';
import { predictionRoutes } from './routes/predictions.ts';
import { metaRoutes } from './routes/meta.ts';
import { batchRoutes } from './routes/batch.ts';
import { cors } from './cors.ts';
import { ApiKeyVerifier } from './api-keys.ts';
import { findApiKey } from './db/api-keys.ts';
import { guardedQuery } from './db/availability.ts';

export interface AppDeps {
  config: Config;
  pool: DatabasePool;
  /** Every served model (`?model=NAME`), one the default; reloadable. */
  models: ModelRegistry<InferenceBatcher>;
  /** The default model and its batcher (getters: they follow reloads). */
  readonly model: LoadedModel;
  readonly batcher: InferenceBatcher;
  preprocess: PreprocessPool;
  log: PredictionLog;
  /** The database's circuit breaker (db/availability.ts): reads go through guardedQuery. */
  dbBreaker: CircuitBreaker;
  metrics: Metrics;
  logger: Logger;
  fetchPolicy: FetchPolicy;
  /** The body budget and timeout every route's body reading goes through (request-body.ts). */
  body: BodyLimits;
  shuttingDown: () => boolean;
  webDir?: string;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.config.trustProxy });
  // One router, case-sensitive (URL paths are): `/API/PREDICTIONS` is a 404, not a request that
  // matched a route but skipped the /api middleware (issue 14, D5). Identity and rate limiting
  // run as the router's own middleware for /api, so they run exactly for the /api routes that
  // matched, whatever their spelling; every route under /api gets them by being registered here.
  const router = new Router({ sensitive: true });
  // Always built: an API key may have its own limit while INKLING_RATE_LIMIT is 0 (off).
  const limiter = new RateLimiter({ perMinute: deps.config.rateLimit, newClientsPerMinute: deps.config.rateLimitNewClients });
  const keys = new ApiKeyVerifier((prefix) => guardedQuery(deps.dbBreaker, deps.config.dbReadTimeoutMs, () => findApiKey(deps.pool, prefix)));
  router.use('/api', identity(deps.config.adminToken, false, keys), rateLimit(limiter));
  batchRoutes(router, deps);
  predictionRoutes(router, deps);
  metaRoutes(router, deps);

  const webDir = deps.webDir ?? WEB_DIR;
  app.use(requestContext(deps.logger, (ctx, ms) => {
    const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? (ctx.path.startsWith('/api/') ? 'unmatched' : 'static');
    deps.metrics.requests.inc({ method: ctx.method, route, status: String(ctx.status) });
    deps.metrics.duration.observe({ route }, ms / 1000);
  }));
  app.use(closeWhenShuttingDown(deps.shuttingDown));
  app.use(errorMiddleware);
  app.use(securityHeaders(contentSecurityPolicy(inlineScripts(webDir))));
  // CORS for /api (off unless INKLING_CORS_ORIGINS): preflights are answered here, before identity
  // and rate limiting.
  app.use(cors(deps.config.corsOrigins));
  app.use(staticFiles(webDir));
  app.use(router.routes());
  // 405 (with Allow) and 501 as bare statuses; errorMiddleware gives them the JSON error shape.
  app.use(router.allowedMethods());
  return app;
}
