// Starts the whole service: database (DATABASE_URL, or a local cluster under INKLING_DATA_DIR),
// migrations, model, batcher, prediction log + spool, HTTP. close() is the graceful shutdown: stop
// accepting, finish requests in flight, flush pending log writes, close the pool, stop the local
// database, free the backend.
import http from 'node:http';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { Config } from './config.ts';
import { startLocalPostgres, type LocalPostgres } from './db/local-postgres.ts';
import { connectPool } from './db/pool.ts';
import { migrate } from './db/migrate.ts';
import type { LoadedModel } from './model.ts';
import { ModelRegistry } from '../model/registry.ts';
export { reloadModels } from './model-reload.ts';
import { InferenceBatcher } from './inference-batcher.ts';
import { inkMapImplementation } from '../preprocess/index.ts';
import { PreprocessPool } from './preprocess-pool.ts';
import { limitMallocRetention } from './malloc-tuning.ts';
import { PredictionLog } from './prediction-log.ts';
import { Spool } from './spool.ts';
import { databaseBreaker } from './db/availability.ts';
import { lockSpool } from './spool-lock.ts';
import { createMetrics } from './prometheus.ts';
import { createApp, type AppDeps } from './app.ts';
import { defaultFetchPolicy } from './url-fetch.ts';
import { watchParent } from './parent-watch.ts';
import { BodyBudget } from './body-budget.ts';
import { onClientError } from './errors.ts';

function logModels(logger: Logger, models: ModelRegistry<InferenceBatcher>): void {
  for (const e of models.list()) {
    logger.info(`model ${e.model.identity.version} (${e.model.card.architecture}) from ${e.model.dir}${e.model.ood ? ', with a not-a-digit detector' : ''}`);
  }
  logger.info(`serving ${models.default.model.identity.version} by default: ${models.reason}`);
}

export interface RunningServer {
  url: string;
  port: number;
  deps: AppDeps;
  localDb: LocalPostgres | null;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Use this model instead of loading one (tests share one across servers). */
  model?: LoadedModel;
  /** When the parent process exits (e.g. npm, whose shell does not forward SIGTERM), send this
   *  process SIGTERM so its handler (inkling serve's) shuts down gracefully. Default true. */
  exitWithParent?: boolean;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'inkling' } });
  // First: before the preprocessing threads, the kernels' pool and the first upload (the arena
  // cap applies to arenas created later).
  logger.info(limitMallocRetention());
  let localDb: LocalPostgres | null = null;
  let pool: DatabasePool | null = null;
  let models: ModelRegistry<InferenceBatcher> | null = null;
  const metrics = createMetrics();
  const makeRunner = (m: LoadedModel) => {
    const b = new InferenceBatcher(m, config.batchMax, config.batchWaitMs);
    b.onBatch = (n, ms) => {
      metrics.batchSize.observe(n);
      metrics.inferenceSeconds.observe(ms / 1000);
    };
    return b;
  };
  // One spool per instance (spool-lock.ts): taken first, so a second instance on the same folder
  // stops before it starts anything.
  const unlockSpool = lockSpool(config.spoolDir);
  try {
    let url = config.databaseUrl;
    if (!url) {
      localDb = await startLocalPostgres({ dataDir: join(config.dataDir, 'postgres'), restartOnCrash: true, log: (l) => (/unexpectedly|restart/.test(l) ? logger.warn(l) : logger.info(l)) });
      url = localDb.url;
    }
    pool = await connectPool(url, { log: (l) => logger.warn(l), syncCommit: config.dbSyncCommit });
    const applied = await migrate(pool);
    if (applied.length) logger.info(`applied migrations ${applied.join(', ')}`);
    models = opts.model
      ? ModelRegistry.single(opts.model, makeRunner(opts.model))
      : await ModelRegistry.open({ root: config.modelDir, preferred: config.model, backend: config.backend, threads: config.threads, makeRunner, warn: (m) => logger.warn(m) });
    logModels(logger, models);
    logger.info(`backend ${models.backendName}; ink map in ${inkMapImplementation === 'native' ? 'C++ (cpu addon)' : 'TypeScript (no cpu addon)'}`);
  } catch (err) {
    await pool?.end().catch(() => {});
    await localDb?.stop().catch(() => {});
    await models?.close().catch(() => {});
    unlockSpool();
    throw err;
  }
  const registry = models;
  const preprocess = new PreprocessPool(config.preprocessThreads, config.largeDecodes);
  const breaker = databaseBreaker(pool);
  breaker.onChange((open, reason) => {
    metrics.dbUp.set(open ? 0 : 1);
    if (open) logger.error(`database unavailable (${reason}): predictions go to the spool, reads answer 503`);
    else logger.info(`database ${reason}: writing to it again; the spool drains in the background`);
  });
  const spool = new Spool({ dir: config.spoolDir, maxBytes: config.spoolMaxBytes, log: (m) => logger.warn(m) });
  const log = new PredictionLog(pool, spool, breaker, logger, { writeTimeoutMs: config.dbWriteTimeoutMs });
  let shuttingDown = false;
  const fetchPolicy = { ...defaultFetchPolicy(config.maxBodyBytes), allowLoopback: config.allowLoopbackUrlsForTests };
  const body = { budget: new BodyBudget(config.bodyBudgetBytes), timeoutMs: config.bodyTimeoutMs };
  const deps: AppDeps = {
    config, pool, preprocess, log, dbBreaker: breaker, metrics, logger, fetchPolicy, body, shuttingDown: () => shuttingDown,
    models: registry,
    // the default model and its batcher, as of now (a reload may change them)
    get model() {
      return registry.default.model;
    },
    get batcher() {
      return registry.default.runner;
    },
  };
  const app = createApp(deps);
  // Node's own request timeout is the backstop behind the body reader's (which answers a JSON
  // 408 first); it is checked every second, not every 30 s (the default interval let stalled
  // uploads hold their memory for ~70 s with a 30 s timeout).
  const requestTimeout = config.bodyTimeoutMs + 2000;
  const server = http.createServer({ requestTimeout, headersTimeout: Math.min(60_000, requestTimeout), connectionsCheckingInterval: 1000 }, app.callback());
  server.keepAliveTimeout = 5000;
  server.on('clientError', onClientError);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    // e.g. EADDRINUSE: stop everything started above, so the process can exit at once
    await preprocess.close();
    await log.close().catch(() => {});
    await pool.end().catch(() => {});
    await localDb?.stop().catch(() => {});
    await registry.close().catch(() => {});
    unlockSpool();
    const e = err as NodeJS.ErrnoException;
    throw e.code === 'EADDRINUSE' ? new Error(`${config.host}:${config.port} is already in use; stop the other server or choose another port (--port N or PORT=N)`, { cause: err }) : err;
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info(`inkling listening on ${url}`);
  const unwatch = opts.exitWithParent === false ? () => {} : watchParent(() => {
    logger.warn('the parent process exited (a SIGTERM to npm is not passed on by its shell): shutting down');
    process.kill(process.pid, 'SIGTERM');
  });

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      unwatch();
      // Stop accepting; idle keep-alive sockets are closed, busy ones finish their request.
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Sockets that finish their request become idle: close those too as they appear.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      void closed.then(() => clearInterval(sweep));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => {
        timer = setTimeout(() => {
          logger.warn('shutdown timeout: closing remaining connections');
          server.closeAllConnections();
          clearInterval(sweep);
          r();
        }, config.shutdownTimeoutMs).unref();
      });
      await Promise.race([closed, timeout]);
      clearTimeout(timer); // a shutdown that finished in time must not warn later (issue 14, D13)
      // inference still in flight (after a shutdown timeout) finishes before its log closes
      await Promise.all(registry.list().map((e) => e.runner.drain()));
      await preprocess.close();
      await log.close();
      unlockSpool();
      await pool!.end().catch(() => {});
      if (localDb) await localDb.stop();
      await registry.close();
      logger.info('inkling stopped');
    })());
  return { url, port, deps, localDb, close };
}
