// A circuit breaker around a dependency that can fail by hanging as well as by erroring (the
// database). Every call gets a client-side timeout: a server that is frozen (SIGSTOP, a stalled
// disk, a partition) never answers, and its own statement timeout cannot fire, so only the caller
// can notice (issue 14, D6). Once the dependency is judged down, the breaker is open: calls fail
// at once with CircuitOpenError (callers fall back: the prediction log spools, reads answer 503)
// while one background probe at a time checks it every `probeIntervalMs`; when a probe succeeds,
// the breaker closes and its listeners hear it (the prediction log then drains its spool).
//
// Down or not: a timeout or a connection-level error trips it (for calls made with
// `tripOnTimeout`); any other error, or a timeout of a call that may just be slow (a big stats
// query), is checked with one probe first, so a query that fails on its own (a bad row, a slow
// plan) never takes the service to its fallback.

export class CircuitOpenError extends Error {
  constructor(name: string) {
    super(`${name} is unavailable (circuit open)`);
    this.name = 'CircuitOpenError';
  }
}

export class CallTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`${name} did not answer within ${ms} ms`);
    this.name = 'CallTimeoutError';
  }
}

export interface CircuitBreakerOptions {
  name: string;
  /** Checks the dependency (e.g. SELECT 1); resolves when it answers. */
  probe: () => Promise<void>;
  probeTimeoutMs: number;
  probeIntervalMs: number;
  /** Errors that mean "unreachable" without a probe (connection refused, terminated, ...). */
  isConnectionError: (err: unknown) => boolean;
}

export type BreakerListener = (open: boolean, reason: string) => void;

export interface CallOptions {
  timeoutMs: number;
  /** A timeout opens the breaker at once (writes: an insert that takes this long is a sick
   *  database); otherwise a probe decides. */
  tripOnTimeout?: boolean;
}

/** Resolves like `p`, or rejects with CallTimeoutError after `ms` (the work itself goes on: its
 *  result is ignored). */
export function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(name, ms)), ms);
  });
  // The abandoned call may still fail later: that must not become an unhandled rejection.
  p.catch(() => {});
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A probe still pending after this many probe timeouts is given up on (see probeLoop). */
export const PROBE_ABANDON_FACTOR = 20;

export class CircuitBreaker {
  private openSince: number | null = null;
  private probing: Promise<void> | null = null;
  private stopped = false;
  private listeners: BreakerListener[] = [];
  /** Ends the probe loop's current wait (stop()). */
  private wake: (() => void) | null = null;
  /** Times the breaker opened (metrics, tests). */
  trips = 0;

  constructor(private readonly opts: CircuitBreakerOptions) {}

  /** Calls `listener(open, reason)` on every change of state. */
  onChange(listener: BreakerListener): void {
    this.listeners.push(listener);
  }

  private emit(open: boolean, reason: string): void {
    for (const l of this.listeners) l(open, reason);
  }

  get isOpen(): boolean {
    return this.openSince !== null;
  }

  /** Runs `fn` under the timeout; rejects with CircuitOpenError at once while open. */
  async call<T>(fn: () => Promise<T>, call: CallOptions): Promise<T> {
    if (this.isOpen) throw new CircuitOpenError(this.opts.name);
    try {
      return await withTimeout(fn(), call.timeoutMs, this.opts.name);
    } catch (err) {
      if (this.isOpen) throw err;
      if (err instanceof CallTimeoutError ? call.tripOnTimeout : this.opts.isConnectionError(err)) {
        this.trip(err instanceof Error ? err.message : String(err));
      } else if (!(await this.probeOnce())) {
        this.trip(`${err instanceof Error ? err.message : String(err)}; the probe failed too`);
      }
      throw err;
    }
  }

  /** True when the dependency answers the probe in time. */
  private async probeOnce(): Promise<boolean> {
    try {
      await withTimeout(this.opts.probe(), this.opts.probeTimeoutMs, this.opts.name);
      return true;
    } catch {
      return false;
    }
  }

  /** Opens the breaker (if closed) and starts the background probe. */
  trip(reason: string): void {
    if (this.isOpen || this.stopped) return;
    this.openSince = Date.now();
    this.trips++;
    this.emit(true, reason);
    this.probing = this.probeLoop();
  }

  private async probeLoop(): Promise<void> {
    let pendingProbe: Promise<void> | null = null;
    let pendingSince = 0;
    while (!this.stopped) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, this.opts.probeIntervalMs).unref();
        this.wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.wake = null;
      if (this.stopped) break;
      // One probe at a time: a probe abandoned by its timeout (a frozen server) may still be
      // waiting; a new one would only queue behind it. But one that never settles at all (a
      // connection whose peer vanished without a reset) must not keep the breaker open for good:
      // past PROBE_ABANDON_FACTOR timeouts it is forgotten and a fresh probe (a fresh connection
      // from the pool) goes out.
      if (pendingProbe && Date.now() - pendingSince < this.opts.probeTimeoutMs * PROBE_ABANDON_FACTOR) continue;
      const attempt = this.opts.probe();
      const settled: Promise<void> = attempt.then(() => {}, () => {}).finally(() => {
        if (pendingProbe === settled) pendingProbe = null;
      });
      pendingProbe = settled;
      pendingSince = Date.now();
      try {
        await withTimeout(attempt, this.opts.probeTimeoutMs, this.opts.name);
      } catch {
        continue;
      }
      const down = Date.now() - (this.openSince ?? Date.now());
      this.openSince = null;
      this.emit(false, `answered again after ${(down / 1000).toFixed(1)} s`);
      break;
    }
    this.probing = null;
  }

  /** Resolves once the breaker is closed (tests, shutdown). */
  async whenClosed(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.isOpen) {
      if (Date.now() > end) throw new Error(`${this.opts.name} did not come back within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops probing (shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.probing;
  }
}
