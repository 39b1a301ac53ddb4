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
import { loadModel, type LoadedModel } from './model.ts';
import { InferenceBatcher } from './inference-batcher.ts';
import { inkMapImplementation } from '../preprocess/index.ts';
import { PreprocessPool } from './preprocess-pool.ts';
import { PredictionLog } from './prediction-log.ts';
import { Spool } from './spool.ts';
import { lockSpool } from './spool-lock.ts';
import { createMetrics } from './metrics.ts';
import { createApp, type AppDeps } from './app.ts';
import { defaultFetchPolicy } from './url-fetch.ts';
import { watchParent } from './parent-watch.ts';

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
  let localDb: LocalPostgres | null = null;
  let pool: DatabasePool | null = null;
  let model: LoadedModel | null = opts.model ?? null;
  try {
    let url = config.databaseUrl;
    if (!url) {
      localDb = await startLocalPostgres({ dataDir: join(config.dataDir, 'postgres'), log: (l) => logger.info(l) });
      url = localDb.url;
    }
    pool = await connectPool(url, { log: (l) => logger.warn(l), syncCommit: config.dbSyncCommit });
    const applied = await migrate(pool);
    if (applied.length) logger.info(`applied migrations ${applied.join(', ')}`);
    if (!model) {
      model = await loadModel(config.modelDir, config.backend, config.threads, (m) => logger.warn(m));
      logger.info(`model ${model.card.version} (${model.card.architecture}) from ${model.dir} on backend ${model.backendName}; ink map in ${inkMapImplementation === 'native' ? 'C++ (cpu addon)' : 'TypeScript (no cpu addon)'}`);
    }
  } catch (err) {
    await pool?.end().catch(() => {});
    await localDb?.stop().catch(() => {});
    if (!opts.model) model?.dispose();
    throw err;
  }

  const metrics = createMetrics();
  const batcher = new InferenceBatcher(model, config.batchMax, config.batchWaitMs);
  batcher.onBatch = (n, ms) => {
    metrics.batchSize.observe(n);
    metrics.inferenceSeconds.observe(ms / 1000);
  };
  let unlockSpool: () => void;
  try {
    unlockSpool = lockSpool(config.spoolDir);
  } catch (err) {
    await pool.end().catch(() => {});
    await localDb?.stop().catch(() => {});
    if (!opts.model) model.dispose();
    throw err;
  }
  const preprocess = new PreprocessPool(config.preprocessThreads);
  const log = new PredictionLog(pool, new Spool(config.spoolDir, config.spoolMaxRows), logger);
  let shuttingDown = false;
  const fetchPolicy = { ...defaultFetchPolicy(config.maxBodyBytes), allowLoopback: config.allowLoopbackUrlsForTests };
  const deps: AppDeps = { config, pool, model, batcher, preprocess, log, metrics, logger, fetchPolicy, shuttingDown: () => shuttingDown };
  const app = createApp(deps);
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
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
      const timeout = new Promise<void>((r) => setTimeout(() => {
        logger.warn('shutdown timeout: closing remaining connections');
        server.closeAllConnections();
        clearInterval(sweep);
        r();
      }, config.shutdownTimeoutMs).unref());
      await Promise.race([closed, timeout]);
      await batcher.drain();
      await preprocess.close();
      await log.close();
      unlockSpool();
      await pool!.end().catch(() => {});
      if (localDb) await localDb.stop();
      if (!opts.model) model!.dispose();
      logger.info('inkling stopped');
    })());
  return { url, port, deps, localDb, close };
}
