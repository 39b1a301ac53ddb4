// `inkling serve [--port N] [--host ADDR] [--workers N]`: the prediction service and the web UI
// (src/server/README.md lists the environment variables; the flags override PORT, HOST and
// INKLING_WORKERS). SIGINT/SIGTERM shut it down gracefully; SIGHUP reloads the models. Logs are
// pretty on a terminal, JSON elsewhere. With more than one worker this process is the cluster's
// primary (src/server/cluster.ts) and each worker runs this same command.
import cluster from 'node:cluster';
import { createServer } from 'node:net';
import pino from 'pino';
import { loadConfig, ConfigError, type Config } from '../server/config.ts';
import { reloadModels, startServer } from '../server/server.ts';
import { runPrimary, reportToPrimary, WORKER_INDEX_ENV } from '../server/cluster.ts';
import { type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';
import { prettyStream, wantPretty } from './pretty-log.ts';

export const SERVE_FLAGS: Record<string, FlagSpec> = {
  port: { type: 'int', min: 0, max: 65535, help: 'listen port (overrides PORT; default 3000; 0 = any free port)' },
  host: { type: 'string', metavar: 'ADDR', help: 'listen address (overrides HOST; default 127.0.0.1; 0.0.0.0 for every interface)' },
  workers: { type: 'int', min: 1, max: 64, help: 'server processes sharing the port (overrides INKLING_WORKERS; default 1)' },
  help: { type: 'boolean', help: 'show this help' },
};

/** Fails fast, before the database starts, when the address is taken or not ours. */
export function checkListen(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (err.code === 'EADDRINUSE') reject(new Error(`${where} is already in use (another inkling or another server?); stop it or choose another port with --port N or PORT=N`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`${host} is not an address of this machine; use --host 127.0.0.1 or 0.0.0.0`));
      else if (err.code === 'EACCES') reject(new Error(`no permission to listen on ${where} (ports under 1024 need privileges); choose --port 3000 or higher`));
      else reject(err);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export const command: Command = {
  name: 'serve',
  summary: 'run the prediction service and web UI (configured by environment variables)',
  async run(argv) {
    const { flags } = parseFlags('serve', argv, SERVE_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText('usage: inkling serve [--port 3000] [--host 127.0.0.1] [--workers 1]\n\nOther settings are environment variables (DATABASE_URL, INKLING_*); see src/server/README.md.', SERVE_FLAGS));
      return 0;
    }
    const env = { ...process.env };
    if (flags.port !== undefined) env.PORT = String(flags.port);
    if (flags.host !== undefined) env.HOST = flags.host as string;
    if (flags.workers !== undefined) env.INKLING_WORKERS = String(flags.workers);
    let config: Config;
    try {
      config = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`inkling serve: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const pretty = wantPretty(process.env, process.stdout.isTTY);
    const logTo = pretty ? prettyStream(process.stdout) : process.stdout;
    // Always said, whatever the log level (scripts and tests wait for this line).
    const announce = (url: string) => process.stderr.write(`inkling serve: listening on ${url}\n`);
    if (config.workers > 1 && cluster.isPrimary) {
      await checkListen(config.port, config.host);
      const logger = pino({ level: config.logLevel, base: { service: 'inkling', role: 'primary' } }, logTo);
      return runPrimary(config, config.workers, { logger, onListening: announce });
    }

    const index = cluster.isWorker ? process.env[WORKER_INDEX_ENV] : undefined;
    if (!index) await checkListen(config.port, config.host);
    const logger = pino({ level: config.logLevel, base: index ? { service: 'inkling', worker: Number(index), pid: process.pid } : { service: 'inkling' } }, logTo);
    let server;
    try {
      server = await startServer(config, { logger });
    } catch (err) {
      reportToPrimary({ type: 'failed', message: (err as Error).message });
      throw err;
    }
    if (index) reportToPrimary({ type: 'listening', url: server.url });
    else announce(server.url);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stderr.write(`inkling serve: ${signal}, shutting down\n`);
        server.close().then(resolve, (err) => {
          process.stderr.write(`inkling serve: shutdown error: ${(err as Error).message}\n`);
          resolve();
        });
      };
      // SIGHUP: pick up new or changed model folders without a restart (no request is dropped)
      process.on('SIGHUP', () => {
        reloadModels(server.deps).catch((err) => server.deps.logger.error(`model reload failed: ${(err as Error).message}`));
      });
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    // A worker's IPC channel to the primary would keep this process alive after the server stopped.
    if (cluster.isWorker) process.disconnect();
    return 0;
  },
};
