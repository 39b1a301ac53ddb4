// `inkling serve`: the prediction service and the web UI (src/server/README.md lists the
// environment variables). SIGINT/SIGTERM shut it down gracefully.
import { loadConfig, ConfigError } from '../server/config.ts';
import { startServer } from '../server/server.ts';
import { CliError } from './args.ts';
import type { Command } from './command.ts';

export const command: Command = {
  name: 'serve',
  summary: 'run the prediction service and web UI (configured by environment variables)',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write('usage: inkling serve\n\nConfigured by environment variables (PORT, DATABASE_URL, INKLING_*); see src/server/README.md.\n');
      return 0;
    }
    if (argv.length > 0) throw new CliError(`serve: takes no arguments (got ${argv.join(' ')}); configure it with environment variables, see src/server/README.md`);
    let config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`inkling serve: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const server = await startServer(config);
    // Always said, whatever the log level (scripts and tests wait for this line).
    process.stderr.write(`inkling serve: listening on ${server.url}\n`);
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
    return 0;
  },
};
