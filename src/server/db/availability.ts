// Is PostgreSQL there? The circuit breaker for the database (one per service, shared by the
// prediction log and the read routes) and the errors that mean "unreachable" rather than "this
// query failed".
import type { DatabasePool } from 'slonik';
import { CircuitBreaker, CircuitOpenError, CallTimeoutError } from '../circuit-breaker.ts';
import { ApiError } from '../errors.ts';
import { ping } from './predictions.ts';

const CONNECTION_ERRORS = new Set(['ConnectionError', 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError']);
// ECONNREFUSED and friends from the socket; SQLSTATE class 08 (connection exception) and 57P0x
// (the server is shutting down, crashed, or not accepting connections yet).
const CONNECTION_MESSAGE = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection terminated|connection.*(closed|lost|refused)|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Client has encountered a connection error/i;

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (CONNECTION_ERRORS.has(err.name)) return true;
  const code = (err as { code?: string }).code ?? ((err as { cause?: { code?: string } }).cause?.code);
  if (code && (/^08/.test(code) || /^57P0[1-3]$/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH)$/.test(code))) return true;
  return CONNECTION_MESSAGE.test(`${err.message} ${(err as { cause?: Error }).cause?.message ?? ''}`);
}

export interface DatabaseBreakerOptions {
  probeTimeoutMs?: number;
  probeIntervalMs?: number;
}

export function databaseBreaker(pool: DatabasePool, opts: DatabaseBreakerOptions = {}): CircuitBreaker {
  return new CircuitBreaker({
    name: 'the database',
    probe: () => ping(pool),
    probeTimeoutMs: opts.probeTimeoutMs ?? 1000,
    probeIntervalMs: opts.probeIntervalMs ?? 500,
    isConnectionError,
  });
}

/** The answer while the database cannot serve a read. */
export const databaseUnavailable = () =>
  new ApiError(503, 'database_unavailable', 'the database is unreachable right now; predictions are still answered and stored, history, feedback and stats are back when it returns', { 'Retry-After': '5' });

/** Runs a read (or a small write such as feedback) through the breaker with the read timeout:
 *  while the database is down or hung the answer is a quick 503, never a request that hangs. */
export async function guardedQuery<T>(breaker: CircuitBreaker, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await breaker.call(fn, { timeoutMs });
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof CircuitOpenError || err instanceof CallTimeoutError || isConnectionError(err) || breaker.isOpen) throw databaseUnavailable();
    throw err;
  }
}
