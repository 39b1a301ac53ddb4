// One error type for the API and one middleware that shapes every failure into
// { error: { code, message } } with the right status. Unexpected errors become 500 internal
// (logged with the request id; the message does not leak internals).
import type { Context, Next } from 'koa';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (code: string, message: string) => new ApiError(400, code, message);
export const notFound = (message = 'no such prediction (unknown id, or not yours)') => new ApiError(404, 'not_found', message);

/** Answers that middleware (the router's 404/405/501) left as a bare status get the same JSON shape
 *  as every other error. */
function bareStatusError(ctx: Context): ApiError {
  const path = ctx.path.length > 200 ? `${ctx.path.slice(0, 200)}...` : ctx.path;
  switch (ctx.status) {
    case 404:
      return new ApiError(404, 'not_found', `no route for ${ctx.method} ${path}`);
    case 405:
      return new ApiError(405, 'method_not_allowed', `${path} does not take ${ctx.method} (the Allow header lists what it takes)`);
    case 501:
      return new ApiError(501, 'not_implemented', `the server does not implement the ${ctx.method} method`);
    default:
      return new ApiError(ctx.status, `http_${ctx.status}`, ctx.message || `HTTP ${ctx.status}`);
  }
}

/** The longest message an error answer carries: validation echoes of hostile bodies (a 3 MB list
 *  of unknown keys) stay short (issue 14, D10). */
export const MAX_ERROR_MESSAGE = 300;

export function boundedMessage(message: string): string {
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE - 3)}...` : message;
}

export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status >= 400 && ctx.body === undefined) throw bareStatusError(ctx);
  } catch (err) {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else {
      const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
      const expose = (err as { expose?: boolean }).expose;
      if (status && status >= 400 && status < 500 && expose !== false) {
        e = new ApiError(status, status === 413 ? 'payload_too_large' : 'bad_request', (err as Error).message);
      } else {
        ctx.state.log?.error({ err }, 'unhandled error');
        e = new ApiError(500, 'internal', 'internal error (see the server log for the request id)');
      }
    }
    ctx.status = e.status;
    for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
    ctx.body = { error: { code: e.code, message: boundedMessage(e.message) } };
  }
}

/** Node's HTTP parser rejects some requests before any route sees them (a malformed chunk, a
 *  header block over the limit, a request that timed out): answer those in the same JSON shape
 *  (Node's default is a bare `400 Bad Request`), then close the connection. */
export function onClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  const s = socket as import('node:net').Socket;
  if (err.code !== 'ECONNRESET' && s.writable && s.bytesWritten === 0) {
    const [status, reason, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request headers are over the size limit']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'request_timeout', 'the request did not arrive in time']
      : [400, 'Bad Request', 'bad_request', `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`];
    const body = JSON.stringify({ error: { code, message } });
    s.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  s.destroySoon?.();
}
