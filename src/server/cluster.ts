// `inkling serve --workers N` (INKLING_WORKERS): N processes on one machine sharing the port
// through node:cluster (the primary accepts connections and hands them out round-robin). Each
// worker is a whole service: its own event loop, dynamic batcher, preprocessing threads, database
// pool and spool (worker i>1 spools under INKLING_SPOOL_DIR/worker-i; worker 1 uses the folder
// itself, so a single-process run finds its rows). The primary owns the embedded PostgreSQL when
// DATABASE_URL is unset (started once, shared), replaces a worker that dies, passes SIGHUP (model
// reload) on to every worker, and on SIGINT/SIGTERM stops the workers gracefully, then the database.
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { startLocalPostgres, type LocalPostgres } from './db/local-postgres.ts';
import { watchParent } from './parent-watch.ts';

export const WORKER_INDEX_ENV = 'INKLING_WORKER_INDEX';

type FromWorker = { type: 'listening'; url: string } | { type: 'failed'; message: string };

/** The spool folder of worker `index` (1-based). */
export const workerSpoolDir = (base: string, index: number): string => (index === 1 ? base : join(base, `worker-${index}`));

export interface PrimaryOptions {
  logger: Logger;
  /** Called once, with the URL, when the first worker listens. */
  onListening?: (url: string) => void;
}

/** Runs in the primary until it is told to stop; resolves with the exit code. */
export async function runPrimary(config: Config, workers: number, opts: PrimaryOptions): Promise<number> {
  const { logger } = opts;
  let localDb: LocalPostgres | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    // Supervised like a single process's (restarted after a crash), shared by the workers.
    localDb = await startLocalPostgres({ dataDir: join(config.dataDir, 'postgres'), restartOnCrash: true, log: (l) => (/unexpectedly|restart/.test(l) ? logger.warn(l) : logger.info(l)) });
    databaseUrl = localDb.url;
  }
  let stopping = false;
  let announced = false;
  const byIndex = new Map<number, Worker>();
  let failure: string | null = null;

  const fork = (index: number) => {
    const w = cluster.fork({
      ...process.env,
      [WORKER_INDEX_ENV]: String(index),
      INKLING_WORKERS: '1',
      DATABASE_URL: databaseUrl,
      INKLING_SPOOL_DIR: workerSpoolDir(config.spoolDir, index),
    });
    byIndex.set(index, w);
    w.on('message', (m: FromWorker) => {
      if (m.type === 'listening' && !announced) {
        announced = true;
        logger.info(`inkling listening on ${m.url} (${workers} workers)`);
        opts.onListening?.(m.url);
      }
      if (m.type === 'failed') failure = m.message;
    });
    w.on('exit', (code, signal) => {
      if (byIndex.get(index) === w) byIndex.delete(index);
      if (stopping) return;
      if (failure && !announced) {
        // A worker that cannot start (bad config, database refused): the others would fail alike.
        logger.error(`worker ${index} could not start: ${failure}`);
        void stop('start failure');
        return;
      }
      logger.error(`worker ${index} exited (${signal ?? `code ${code}`}); starting a new one in 1 s`);
      setTimeout(() => !stopping && fork(index), 1000).unref();
    });
  };

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${why}: stopping ${byIndex.size} worker(s)`);
    await Promise.all([...byIndex.values()].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    })));
    if (localDb) await localDb.stop();
    logger.info('inkling stopped');
    resolveDone(failure && !announced ? 1 : 0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // SIGHUP reloads the models: every worker rescans (POST /api/admin/reload reaches one worker only).
  process.on('SIGHUP', () => {
    logger.info(`SIGHUP: reloading the models in ${byIndex.size} worker(s)`);
    for (const w of byIndex.values()) if (!w.isDead()) w.process.kill('SIGHUP');
  });
  watchParent(() => void stop('the parent process exited'));
  for (let i = 1; i <= workers; i++) fork(i);
  return done;
}

/** In a worker: tell the primary where we listen (the first one is announced). */
export function reportToPrimary(message: FromWorker): void {
  process.send?.(message);
}
