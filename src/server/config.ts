// Service configuration: read from the environment ONCE at start, validated with zod, then passed
// down. A bad value stops the process with a message naming the variable and the fix.
import { z } from 'zod';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { defaultDataDir, defaultModelsDir } from '../paths.ts';
import { parseCorsOrigins } from './cors.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

export const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  INKLING_DATA_DIR: z.string().min(1).optional(),
  INKLING_BACKEND: z.enum(['cpu', 'ref', 'webgpu', 'cuda', 'cuda-emu', 'metal']).default('cpu'),
  INKLING_THREADS: int(1, 256).optional(),
  INKLING_MODEL_DIR: z.string().min(1).optional(),
  INKLING_MODEL: z.string().regex(/^[^/\\]+$/, 'must be a model folder name (e.g. seed-cnn), not a path').optional(),
  INKLING_BATCH_MAX: int(1, 1024).default(32),
  INKLING_PREPROCESS_THREADS: int(0, 64).optional(),
  INKLING_LARGE_DECODES: int(1, 64).default(2),
  INKLING_BATCH_WAIT_MS: z.coerce.number().min(0).max(1000).default(0),
  INKLING_RATE_LIMIT: int(0, 1_000_000).default(600),
  INKLING_RATE_LIMIT_NEW_CLIENTS: int(1, 1_000_000).default(60),
  INKLING_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').refine((v) => !v.startsWith('ink_'), 'must not start with ink_ (the API keys\' prefix)').optional(),
  INKLING_MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
  INKLING_MAX_PIXELS: int(1, 1_000_000_000).default(25_000_000),
  INKLING_BODY_BUDGET_BYTES: int(64 * 1024, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  INKLING_BODY_TIMEOUT_MS: int(100, 600_000).default(30_000),
  INKLING_SPOOL_DIR: z.string().min(1).optional(),
  INKLING_SPOOL_MAX_BYTES: int(64 * 1024, 2 ** 50).default(1024 * 1024 * 1024),
  INKLING_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INKLING_TRUST_PROXY: bool.default('0'),
  INKLING_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  INKLING_DB_SYNC_COMMIT: bool.default('1'),
  INKLING_DB_WRITE_TIMEOUT_MS: int(10, 600_000).default(1000),
  INKLING_DB_READ_TIMEOUT_MS: int(10, 600_000).default(6000),
  INKLING_WORKERS: int(1, 64).default(1),
  INKLING_CORS_ORIGINS: z.string().optional().superRefine((v, ctx) => {
    try {
      parseCorsOrigins(v);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
    }
  }),
});

/** Variables that meant something once: setting one is an error that says what replaced it. */
const REMOVED: Record<string, string> = {
  INKLING_SPOOL_MAX_ROWS: 'no longer read; the spool is bounded by bytes on disk: set INKLING_SPOOL_MAX_BYTES (default 1 GiB)',
};

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDir: string;
  backend: 'cpu' | 'ref' | 'webgpu' | 'cuda' | 'cuda-emu' | 'metal';
  threads: number | null;
  modelDir: string;
  /** INKLING_MODEL: the default model's folder name (null: the best evaluated). */
  model: string | null;
  batchMax: number;
  batchWaitMs: number;
  /** Worker threads that preprocess images while other requests are in flight (0 = always on
   *  the main thread). Default: cores - 1, at most 4. */
  preprocessThreads: number;
  /** Large images (sharp's decodes: photos, PNGs over 1 megapixel) decoded at once, on the main
   *  thread; the others wait with only their bytes in memory. Default 2. */
  largeDecodes: number;
  /** Requests per minute per client on /api; 0 = off. */
  rateLimit: number;
  /** New anonymous clients a minute per IP address (forged or dropped cookies count as new). */
  rateLimitNewClients: number;
  adminToken: string | null;
  maxBodyBytes: number;
  maxPixels: number;
  /** Request-body bytes held in memory at once, all requests together (503 server_busy past it). */
  bodyBudgetBytes: number;
  /** How long a request body may take to arrive (408 body_timeout, connection closed). */
  bodyTimeoutMs: number;
  spoolDir: string;
  /** The spool's cap in bytes on disk; a row that does not fit is answered 503. */
  spoolMaxBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  trustProxy: boolean;
  shutdownTimeoutMs: number;
  /** Wait for the WAL flush on every commit (synchronous_commit=on; see db/pool.ts). Default on:
   *  a 201 with logged:true then survives a crash of PostgreSQL or of the machine. */
  dbSyncCommit: boolean;
  /** Client-side timeout of a prediction INSERT; past it the database counts as down (spool). */
  dbWriteTimeoutMs: number;
  /** Client-side timeout of a read (history, stats); past it the answer is 503. */
  dbReadTimeoutMs: number;
  /** Server processes sharing the port (cluster.ts); 1 = this process serves. */
  workers: number;
  /** Origins allowed to call /api/ from a browser (cors.ts); empty = CORS off. */
  corsOrigins: string[];
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
  const removed = Object.entries(REMOVED).filter(([k]) => env[k] !== undefined && env[k] !== '');
  if (removed.length) throw new ConfigError(`invalid configuration:\n${removed.map(([k, why]) => `  ${k}: ${why}`).join('\n')}`);
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0]);
      return `  ${name}=${JSON.stringify(input[name] ?? '')}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}\n(see src/server/README.md for every variable)`);
  }
  const e = parsed.data;
  // Unset: the shipped models relative to the package, the data in the checkout's .data when run
  // inside it, else a per-user folder (src/paths.ts).
  const dataDir = e.INKLING_DATA_DIR ? resolve(cwd, e.INKLING_DATA_DIR) : defaultDataDir(cwd, env);
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
    modelDir: e.INKLING_MODEL_DIR ? resolve(cwd, e.INKLING_MODEL_DIR) : defaultModelsDir(),
    model: e.INKLING_MODEL ?? null,
    batchMax: e.INKLING_BATCH_MAX,
    batchWaitMs: e.INKLING_BATCH_WAIT_MS,
    preprocessThreads: e.INKLING_PREPROCESS_THREADS ?? Math.min(4, Math.max(0, availableParallelism() - 1)),
    largeDecodes: e.INKLING_LARGE_DECODES,
    rateLimit: e.INKLING_RATE_LIMIT,
    rateLimitNewClients: e.INKLING_RATE_LIMIT_NEW_CLIENTS,
    adminToken: e.INKLING_ADMIN_TOKEN ?? null,
    maxBodyBytes: e.INKLING_MAX_BODY_BYTES,
    maxPixels: e.INKLING_MAX_PIXELS,
    bodyBudgetBytes: e.INKLING_BODY_BUDGET_BYTES,
    bodyTimeoutMs: e.INKLING_BODY_TIMEOUT_MS,
    spoolDir: e.INKLING_SPOOL_DIR ? resolve(cwd, e.INKLING_SPOOL_DIR) : resolve(dataDir, 'spool'),
    spoolMaxBytes: e.INKLING_SPOOL_MAX_BYTES,
    logLevel: e.INKLING_LOG_LEVEL,
    trustProxy: e.INKLING_TRUST_PROXY,
    shutdownTimeoutMs: e.INKLING_SHUTDOWN_TIMEOUT_MS,
    dbSyncCommit: e.INKLING_DB_SYNC_COMMIT,
    dbWriteTimeoutMs: e.INKLING_DB_WRITE_TIMEOUT_MS,
    dbReadTimeoutMs: e.INKLING_DB_READ_TIMEOUT_MS,
    corsOrigins: parseCorsOrigins(e.INKLING_CORS_ORIGINS),
    workers: e.INKLING_WORKERS,
    allowLoopbackUrlsForTests: false,
  };
}
