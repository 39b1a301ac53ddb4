// Service configuration: read from the environment ONCE at start, validated with zod, then passed
// down. A bad value stops the process with a message naming the variable and the fix.
import { z } from 'zod';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

export const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  INKLING_DATA_DIR: z.string().min(1).default('.data'),
  INKLING_BACKEND: z.enum(['cpu', 'ref', 'webgpu', 'cuda', 'metal']).default('cpu'),
  INKLING_THREADS: int(1, 256).optional(),
  INKLING_MODEL_DIR: z.string().min(1).default('models'),
  INKLING_BATCH_MAX: int(1, 1024).default(32),
  INKLING_PREPROCESS_THREADS: int(0, 64).optional(),
  INKLING_BATCH_WAIT_MS: z.coerce.number().min(0).max(1000).default(0),
  INKLING_RATE_LIMIT: int(0, 1_000_000).default(600),
  INKLING_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  INKLING_MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
  INKLING_MAX_PIXELS: int(1, 1_000_000_000).default(25_000_000),
  INKLING_SPOOL_DIR: z.string().min(1).optional(),
  INKLING_SPOOL_MAX_ROWS: int(1, 10_000_000).default(10_000),
  INKLING_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INKLING_TRUST_PROXY: bool.default('0'),
  INKLING_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  INKLING_DB_SYNC_COMMIT: bool.default('0'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDir: string;
  backend: 'cpu' | 'ref' | 'webgpu' | 'cuda' | 'metal';
  threads: number | null;
  modelDir: string;
  batchMax: number;
  batchWaitMs: number;
  /** Worker threads that preprocess images while other requests are in flight (0 = always on
   *  the main thread). Default: cores - 1, at most 4. */
  preprocessThreads: number;
  /** Requests per minute per client on /api; 0 = off. */
  rateLimit: number;
  adminToken: string | null;
  maxBodyBytes: number;
  maxPixels: number;
  spoolDir: string;
  spoolMaxRows: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  trustProxy: boolean;
  shutdownTimeoutMs: number;
  /** Wait for the WAL fsync on every commit (see db/pool.ts); off by default. */
  dbSyncCommit: boolean;
  /** TEST ONLY (never read from the environment): lets URL input reach loopback addresses so tests
   *  can serve images from a local HTTP server. Off by default. */
  allowLoopbackUrlsForTests: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError naming every bad variable. Empty strings count as
 *  unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0]);
      return `  ${name}=${JSON.stringify(input[name] ?? '')}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}\n(see src/server/README.md for every variable)`);
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.INKLING_DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir,
    backend: e.INKLING_BACKEND,
    // One kernel thread by default: batches are small (1-4 images) and the cpu backend's workers
    // spin after each kernel, taking CPU from the preprocessing threads and PostgreSQL (measured
    // with bench:api on 2 cores: more requests/s with 1 than with 2).
    threads: e.INKLING_THREADS ?? 1,
    modelDir: resolve(cwd, e.INKLING_MODEL_DIR),
    batchMax: e.INKLING_BATCH_MAX,
    batchWaitMs: e.INKLING_BATCH_WAIT_MS,
    preprocessThreads: e.INKLING_PREPROCESS_THREADS ?? Math.min(4, Math.max(0, availableParallelism() - 1)),
    rateLimit: e.INKLING_RATE_LIMIT,
    adminToken: e.INKLING_ADMIN_TOKEN ?? null,
    maxBodyBytes: e.INKLING_MAX_BODY_BYTES,
    maxPixels: e.INKLING_MAX_PIXELS,
    spoolDir: resolve(cwd, e.INKLING_SPOOL_DIR ?? `${e.INKLING_DATA_DIR}/spool`),
    spoolMaxRows: e.INKLING_SPOOL_MAX_ROWS,
    logLevel: e.INKLING_LOG_LEVEL,
    trustProxy: e.INKLING_TRUST_PROXY,
    shutdownTimeoutMs: e.INKLING_SHUTDOWN_TIMEOUT_MS,
    dbSyncCommit: e.INKLING_DB_SYNC_COMMIT,
    allowLoopbackUrlsForTests: false,
  };
}
