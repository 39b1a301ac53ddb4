// CORS for the API, off unless INKLING_CORS_ORIGINS lists the origins allowed to call it from a
// browser (exact `scheme://host[:port]` values, comma-separated, or `*`). Only /api/ answers with
// CORS headers; the UI, docs and probes never do. No credentials are allowed cross-origin (the
// cookie identity is for the UI on its own origin): scripts elsewhere authenticate with an API key
// in the Authorization header, which the preflight allows.
import type { Context, Next } from 'koa';

const METHODS = 'GET, POST, PUT, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-Id';
const EXPOSED_HEADERS = 'Location, X-Request-Id, RateLimit-Limit, RateLimit-Remaining, Retry-After';
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** Parses INKLING_CORS_ORIGINS; throws a message naming the bad entry. Empty = off. */
export function parseCorsOrigins(value: string | undefined): string[] {
  if (!value || !value.trim()) return [];
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of list) {
    if (o !== '*' && !ORIGIN.test(o)) throw new Error(`"${o}" is not an origin: write scheme://host[:port] with no path or trailing slash (e.g. https://app.example.com), or *`);
  }
  return list;
}

export function cors(origins: string[]) {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return async (ctx: Context, next: Next) => {
    if (origins.length === 0 || !ctx.path.startsWith('/api/')) return next();
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (!origin || !(any || allowed.has(origin.toLowerCase()))) return next();
    ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      // Preflight: answered here, before identity and rate limiting.
      ctx.set('Access-Control-Allow-Methods', METHODS);
      ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    await next();
  };
}
