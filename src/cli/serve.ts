// `inkling serve [--workers N]`: the prediction service and the web UI (src/server/README.md lists
// the environment variables). SIGINT/SIGTERM shut it down gracefully. With more than one worker
// (--workers, INKLING_WORKERS) this process is the cluster's primary (src/server/cluster.ts) and
// each worker runs this same command.
import cluster from 'node:cluster';
import pino from 'pino';
import { loadConfig, ConfigError, type Config } from '../server/config.ts';
import { startServer } from '../server/server.ts';
import { runPrimary, reportToPrimary, WORKER_INDEX_ENV } from '../server/cluster.ts';
import { type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';

const SERVE_FLAGS: Record<string, FlagSpec> = {
  workers: { type: 'int', min: 1, max: 64, help: 'server processes sharing the port (default INKLING_WORKERS, 1)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const command: Command = {
  name: 'serve',
  summary: 'run the prediction service and web UI (configured by environment variables)',
  async run(argv) {
    const { flags } = parseFlags('serve', argv, SERVE_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText('usage: inkling serve [--workers N]\n\nConfigured by environment variables (PORT, DATABASE_URL, INKLING_*); see src/server/README.md.', SERVE_FLAGS));
      return 0;
    }
    let config: Config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`inkling serve: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const workers = (flags.workers as number | undefined) ?? config.workers;
    if (workers > 1 && cluster.isPrimary) return runPrimary(config, workers);

    const index = cluster.isWorker ? process.env[WORKER_INDEX_ENV] : undefined;
    const logger = index ? pino({ level: config.logLevel, base: { service: 'inkling', worker: Number(index), pid: process.pid } }) : undefined;
    let server;
    try {
      // A worker's parent is the primary, which stops it with SIGTERM: no parent watch needed
      // beyond the default (the primary dying orphans it, and it shuts down).
      server = await startServer(config, { logger });
    } catch (err) {
      reportToPrimary({ type: 'failed', message: (err as Error).message });
      throw err;
    }
    reportToPrimary({ type: 'listening', url: server.url });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stderr.write(`inkling serve: ${signal}, shutting down\n`);
        server.close().then(resolve, (err) => {
          process.stderr.write(`inkling serve: shutdown error: ${(err as Error).message}\n`);
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    // A worker's IPC channel to the primary would keep this process alive after the server stopped.
    if (cluster.isWorker) process.disconnect();
    return 0;
  },
};
