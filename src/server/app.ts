// Builds the Koa app from its dependencies (config, pool, model, batcher, log, metrics). No I/O
// here: server.ts creates the dependencies and listens.
import Koa from 'koa';
import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { LoadedModel } from './model.ts';
import type { InferenceBatcher } from './inference-batcher.ts';
import type { PreprocessPool } from './preprocess-pool.ts';
import type { PredictionLog } from './prediction-log.ts';
import type { Metrics } from './metrics.ts';
import type { FetchPolicy } from './url-fetch.ts';
import { errorMiddleware } from './errors.ts';
import { requestContext, securityHeaders, contentSecurityPolicy, identity, rateLimit } from './middleware.ts';
import { staticFiles, inlineScripts, WEB_DIR } from './static-files.ts';
import { predictionRoutes } from './routes/predictions.ts';
import { metaRoutes } from './routes/meta.ts';
import { batchRoutes } from './routes/batch.ts';
import { cors } from './cors.ts';
import { ApiKeyVerifier } from './api-keys.ts';

export interface AppDeps {
  config: Config;
  pool: DatabasePool;
  model: LoadedModel;
  batcher: InferenceBatcher;
  preprocess: PreprocessPool;
  log: PredictionLog;
  metrics: Metrics;
  logger: Logger;
  fetchPolicy: FetchPolicy;
  shuttingDown: () => boolean;
  webDir?: string;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.config.trustProxy });
  const router = new Router();
  batchRoutes(router, deps);
  predictionRoutes(router, deps);
  metaRoutes(router, deps);

  const webDir = deps.webDir ?? WEB_DIR;
  app.use(requestContext(deps.logger, (ctx, ms) => {
    const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? (ctx.path.startsWith('/api/') ? 'unmatched' : 'static');
    deps.metrics.requests.inc({ method: ctx.method, route, status: String(ctx.status) });
    deps.metrics.duration.observe({ route }, ms / 1000);
  }));
  app.use(errorMiddleware);
  app.use(securityHeaders(contentSecurityPolicy(inlineScripts(webDir))));
  app.use(cors(deps.config.corsOrigins));
  const who = identity(deps.config.adminToken, false, new ApiKeyVerifier(deps.pool));
  const limit = rateLimit(deps.config.rateLimit);
  app.use(async (ctx, next) => {
    // Identity and rate limiting apply to the API only (static files and probes need neither).
    if (!ctx.path.startsWith('/api/')) return next();
    return who(ctx, () => limit(ctx, next));
  });
  app.use(staticFiles(webDir));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  return app;
}
