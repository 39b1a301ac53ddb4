// Slonik pool with a result-parser interceptor: every `sql.type(schema)` query has its rows
// validated (and transformed) by the zod schema, so a row that does not match throws
// SchemaValidationError instead of flowing on untyped. timestamptz stays epoch milliseconds (the
// slonik default); bytea comes back as Buffer.
import { createPool, SchemaValidationError, type DatabasePool, type Interceptor, type QueryResultRow } from 'slonik';

export function resultParserInterceptor(): Interceptor {
  return {
    name: 'result-parser',
    transformRow(queryContext, query, row) {
      const parser = queryContext.resultParser;
      if (!parser) return row;
      const parsed = parser.safeParse(row);
      if (!parsed.success) throw new SchemaValidationError(query, row, parsed.error.issues);
      return parsed.data as QueryResultRow;
    },
  };
}

/** Adds `-c name=value` session settings to a postgres:// URL (the libpq `options` parameter). */
export function withSessionSettings(url: string, settings: Record<string, string>): string {
  const u = new URL(url);
  const extra = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const current = u.searchParams.get('options');
  u.searchParams.set('options', current ? `${current} ${extra}` : extra);
  return u.toString();
}

export interface PoolOptions {
  /** true: every commit waits for its WAL to be flushed (synchronous_commit=on, set on the
   *  session, so a server configured with `off` cannot weaken it); a committed row survives a
   *  crash of PostgreSQL or of the machine. false: synchronous_commit=off, where a crash of
   *  PostgreSQL loses the commits of its last ~0.2-0.6 s (measured: 38-134 rows at ~2,000/s,
   *  issue 14, D3). Unset: the server's own setting (tools, tests). */
  syncCommit?: boolean;
  /** Attempts to connect before giving up (createPool does not retry by itself). */
  attempts?: number;
  delayMs?: number;
  log?: (line: string) => void;
}

export async function connectPool(url: string, opts: PoolOptions = {}): Promise<DatabasePool> {
  const attempts = opts.attempts ?? 30;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const target = opts.syncCommit === undefined ? url : withSessionSettings(url, { synchronous_commit: opts.syncCommit ? 'on' : 'off' });
      return await createPool(target, {
        interceptors: [resultParserInterceptor()],
        connectionTimeout: 2000,
        statementTimeout: 5000,
        idleTimeout: 10_000,
        maximumPoolSize: 8,
        connectionRetryLimit: 0,
        // Slonik's default runs DISCARD ALL on every release: a second round trip after every
        // query, on the request path (an insert took two). Nothing here leaves session state
        // behind (no SET, temp tables, LISTEN or prepared statements outside a query), so the
        // reset has nothing to undo.
        resetConnection: async () => {},
      });
    } catch (err) {
      lastError = err;
      if (i === 0) opts.log?.(`database not reachable yet (${(err as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 500));
    }
  }
  throw new Error(`cannot connect to the database after ${attempts} attempts: ${(lastError as Error)?.message ?? lastError}`);
}
