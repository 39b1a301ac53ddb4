// Small middlewares, one job each: request ids + access log, security headers, the caller's
// identity (anonymous client cookie or admin bearer), `Connection: close` while shutting down.
// (Rate limiting: rate-limit.ts.)
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ApiError } from './errors.ts';
import { randomToken } from './random-tokens.ts';
import { looksLikeApiKey, type ApiKeyVerifier, type VerifiedKey } from './api-keys.ts';

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    log: Logger;
    clientId: string;
    /** The client id was minted for this request (no usable cookie came with it). */
    newClient: boolean;
    isAdmin: boolean;
    /** Set when the caller authenticated with an API key (its rows are under 'key:<id>'). */
    apiKey?: VerifiedKey;
  }
}

const REQUEST_ID = /^[\w.-]{1,64}$/;

export function requestContext(logger: Logger, onDone: (ctx: Context, ms: number) => void) {
  return async (ctx: Context, next: Next) => {
    const t0 = performance.now();
    const incoming = ctx.get('x-request-id');
    const id = REQUEST_ID.test(incoming) ? incoming : randomToken(9);
    ctx.state.requestId = id;
    // The request's child logger is made on first use: most requests log nothing above the
    // configured level, and a pino child costs an object and its serialized bindings.
    let child: Logger | null = null;
    Object.defineProperty(ctx.state, 'log', { get: () => (child ??= logger.child({ reqId: id })), configurable: true, enumerable: true });
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      const ms = performance.now() - t0;
      onDone(ctx, ms);
      if (logger.isLevelEnabled('info')) {
        ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 100) / 100 }, 'request');
      }
    }
  };
}

/** Content-Security-Policy allowing our own files only, plus the inline import map by hash. */
export function contentSecurityPolicy(inlineScripts: string[]): string {
  const hashes = inlineScripts.map((s) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(csp: string) {
  return async (ctx: Context, next: Next) => {
    ctx.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    });
    await next();
  };
}

export const CLIENT_COOKIE = 'inkling_client';
const CLIENT_ID = /^[A-Za-z0-9_-]{22}$/;

const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer realm="inkling", error="invalid_token"' });

/** Who is calling: an API key (`Bearer ink_…`), an admin (the admin bearer), or an anonymous
 *  client identified by an httpOnly cookie created on first use. A wrong or revoked bearer is 401
 *  (with WWW-Authenticate) rather than a silent downgrade. A new client's cookie is issued with
 *  the answer, and not with a 429: an identity the rate limiter refused was never created. */
export function identity(adminToken: string | null, secureCookies: boolean, keys: ApiKeyVerifier | null = null) {
  const expected = adminToken ? Buffer.from(adminToken) : null;
  return async (ctx: Context, next: Next) => {
    const auth = ctx.get('authorization');
    ctx.state.isAdmin = false;
    if (auth) {
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      const token = m ? m[1].trim() : '';
      if (keys && looksLikeApiKey(token)) {
        const check = await keys.verify(token);
        if (!check.ok) {
          if (check.reason === 'unavailable') throw new ApiError(503, 'database_unavailable', 'the API key cannot be checked while the database is unreachable; retry shortly', { 'Retry-After': '5' });
          throw unauthorized(check.reason === 'revoked' ? 'this API key was revoked' : 'unknown API key');
        }
        ctx.state.apiKey = check.key;
        ctx.state.clientId = `key:${check.key.id}`;
        ctx.state.newClient = false;
        return next();
      }
      const given = Buffer.from(token);
      if (!expected || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw unauthorized(expected ? 'the bearer token is neither an API key nor the admin token' : 'the bearer token is not an API key (inkling keys create), and no admin token is configured');
      }
      ctx.state.isAdmin = true;
    }
    let id = ctx.cookies.get(CLIENT_COOKIE);
    ctx.state.newClient = !id || !CLIENT_ID.test(id);
    if (ctx.state.newClient) id = randomToken(16);
    ctx.state.clientId = id!;
    const issue = () => {
      if (ctx.state.newClient) ctx.cookies.set(CLIENT_COOKIE, id, { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: 365 * 24 * 3600 * 1000, overwrite: true });
    };
    try {
      await next();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 429)) issue();
      throw err;
    }
    issue();
  };
}

/** While the server shuts down, every answer closes its connection (keep-alive clients would
 *  otherwise send their next request into a socket about to close, and see ECONNRESET). */
export function closeWhenShuttingDown(shuttingDown: () => boolean) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      if (shuttingDown()) ctx.set('Connection', 'close');
    }
  };
}
