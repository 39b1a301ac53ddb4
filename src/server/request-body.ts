// Reading a request body, the one way every route does it. The request stream's every outcome
// is handled (data, end, error, a client that hangs up, a client that stalls): the promise always
// settles, and no stream error can reach the process as an unhandled 'error' event (issue 14, D1).
// Bytes are charged to the process-wide BodyBudget and returned when the response closes; the
// body is cut at `maxBytes` (413) and at the body timeout (408, connection closed).
import type { Context } from 'koa';
import { ApiError } from './errors.ts';
import type { BodyBudget } from './body-budget.ts';

export interface BodyLimits {
  budget: BodyBudget;
  /** How long a body may take to arrive, from the start of reading it. */
  timeoutMs: number;
}

export const tooLarge = (limit: number) =>
  new ApiError(413, 'payload_too_large', `the request body is over the ${limit}-byte limit`);

/** The client hung up mid-body: nobody is left to read an answer, but the handler must end. */
export const clientAborted = () => new ApiError(400, 'client_aborted', 'the client closed the connection before the body ended');

const bodyTimeout = (ms: number) =>
  new ApiError(408, 'body_timeout', `the request body did not arrive within ${Math.round(ms / 1000)} s`, { Connection: 'close' });

/** Reserves `n` budget bytes for this request, released once when its response closes. */
function reserveForRequest(ctx: Context, budget: BodyBudget, n: number): boolean {
  if (!budget.tryReserve(n)) return false;
  const res = ctx.res;
  if (res.closed) budget.release(n);
  else res.once('close', () => budget.release(n));
  return true;
}

/** The Content-Length the client declared, or null (chunked, or none). Node's parser has already
 *  refused a malformed one. */
function declaredLength(ctx: Context): number | null {
  const header = ctx.get('content-length');
  return header ? Number(header) : null;
}

/** Streams the body into `onChunk` (which may throw to stop: its error is the result). Resolves
 *  with the byte count once the body ended. */
export function streamBody(ctx: Context, limits: BodyLimits, maxBytes: number, onChunk: (chunk: Buffer) => void): Promise<number> {
  const req = ctx.req;
  const declared = declaredLength(ctx);
  if (declared !== null && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  if (req.readableEnded) return Promise.resolve(0);
  // A declared length is reserved whole, so an admitted upload is never cut halfway by others.
  if (declared !== null && declared > 0 && !reserveForRequest(ctx, limits.budget, declared)) return Promise.reject(limits.budget.busyError());
  return new Promise<number>((resolve, reject) => {
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => fail(bodyTimeout(limits.timeoutMs)), limits.timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      // Whatever is still to come is read and discarded (Node keeps the stream flowing), so a
      // keep-alive connection can carry the next request; the body timeout bounds how long.
      req.on('error', () => {});
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return fail(tooLarge(maxBytes));
      if (declared === null && !reserveForRequest(ctx, limits.budget, chunk.length)) return fail(limits.budget.busyError());
      try {
        onChunk(chunk);
      } catch (err) {
        fail(err);
      }
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(size);
    };
    const onError = () => fail(clientAborted());
    const onClose = () => {
      if (!req.complete) fail(clientAborted());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** The whole body as one Buffer (at most `maxBytes`). A declared length is read straight into a
 *  buffer of that size, each chunk copied in and dropped as it arrives: collecting the chunks and
 *  concatenating them held every body twice at its end, and the many 64 KiB chunks of concurrent
 *  uploads fragmented the heap (bench:memory's peak, issue 14 D7). */
export async function readBody(ctx: Context, limits: BodyLimits, maxBytes: number): Promise<Buffer> {
  const declared = declaredLength(ctx);
  if (declared !== null && Number.isSafeInteger(declared) && declared > 0 && declared <= maxBytes) {
    const body = Buffer.allocUnsafeSlow(declared);
    let at = 0;
    await streamBody(ctx, limits, maxBytes, (c) => {
      // Node's parser never delivers more than the declared length; a guard, not a path.
      if (at + c.length > declared) throw new ApiError(400, 'invalid_body', 'the body is longer than its Content-Length');
      c.copy(body, at);
      at += c.length;
    });
    return at === declared ? body : body.subarray(0, at);
  }
  const chunks: Buffer[] = [];
  await streamBody(ctx, limits, maxBytes, (c) => chunks.push(c));
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
