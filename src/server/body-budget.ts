// A process-wide budget of request-body bytes held in memory at once. Each body reserves what it
// will hold (its Content-Length up front when declared, else chunk by chunk) and gives it back when
// its response closes. Past the budget a request is refused with 503 server_busy + Retry-After
// instead of being buffered: 64 concurrent 5 MB uploads then cost the budget, not 320 MB of
// buffers plus their copies and decodes (issue 14, D7). Any route that reads a body goes through
// request-body.ts, which charges this budget.
import { ApiError } from './errors.ts';

export class BodyBudget {
  private used = 0;
  /** Requests refused because the budget was spent (metrics). */
  refused = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes reserved by bodies being read or handled right now. */
  get inFlight(): number {
    return this.used;
  }

  /** Reserves `n` bytes, or returns false (nothing reserved) when they do not fit. */
  tryReserve(n: number): boolean {
    if (n < 0 || this.used + n > this.maxBytes) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** The answer for a request that did not fit. */
  busyError(): ApiError {
    this.refused++;
    return new ApiError(503, 'server_busy', `the server is reading ${Math.round(this.maxBytes / 1048576)} MB of request bodies already; retry in a second`, { 'Retry-After': '1' });
  }
}
