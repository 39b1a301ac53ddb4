// Builds the Koa app from its dependencies (config, pool, model, batcher, log, metrics). No I/O
// here: server.ts creates the dependencies and listens.
import Koa from 'koa';
import Router from '@koa/router';
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
import type { AppDeps } from './app-deps.ts';

export type { AppDeps } from './app-deps.ts';

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
