// The service's database for CLI commands (inkling keys): DATABASE_URL when set; otherwise the
// embedded cluster under INKLING_DATA_DIR, reached on the port a running `inkling serve` started
// it on (postmaster.pid), or started for the command and stopped after it. Migrations are applied
// first, like the server does, so a fresh database works too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabasePool } from 'slonik';
import { loadConfig, ConfigError } from '../server/config.ts';
import { startLocalPostgres, type LocalPostgres } from '../server/db/local-postgres.ts';
import { connectPool } from '../server/db/pool.ts';
import { migrate } from '../server/db/migrate.ts';
import { CliError } from './args.ts';

/** The port of a postmaster that is running on `dataDir`, or null. */
export function runningClusterPort(dataDir: string): number | null {
  let lines: string[];
  try {
    lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres') ? port : null;
}

export async function openDatabase(command: string): Promise<{ pool: DatabasePool; where: string; close(): Promise<void> }> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`${command}: ${err.message}`);
    throw err;
  }
  let url = config.databaseUrl;
  let where = 'DATABASE_URL';
  let local: LocalPostgres | null = null;
  if (!url) {
    const dataDir = join(config.dataDir, 'postgres');
    const port = runningClusterPort(dataDir);
    if (port) {
      url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      where = `the embedded cluster of the running service (${dataDir})`;
    } else {
      local = await startLocalPostgres({ dataDir });
      url = local.url;
      where = `the embedded cluster in ${dataDir}`;
    }
  }
  let pool: DatabasePool;
  try {
    pool = await connectPool(url, { attempts: 3 });
    await migrate(pool);
  } catch (err) {
    await local?.stop();
    throw err;
  }
  return {
    pool,
    where,
    close: async () => {
      await pool.end().catch(() => {});
      await local?.stop();
    },
  };
}
