// Rate limiting that holds against forged identities (issue 14, D4). A client is an anonymous id
// in a cookie, which the client itself presents: any well-formed id is accepted, so a fresh id
// must not mean a fresh, full bucket. Two token buckets decide:
// - per client: `perMinute` requests a minute (bursts up to the same), for ids the limiter has
//   seen (a bucket exists for them);
// - per IP address: creating identities. A request whose id has no bucket yet (a new visitor, a
//   caller that drops its cookie, a forged or evicted id) first takes one token from its address's
//   `newClientsPerMinute` bucket; only then does the id get its own bucket.
// An API key (verified in the database) gets a bucket of its own at the key's limit.
// Both maps are LRU-bounded (`maxClients`, `maxAddresses`), so no stream of cookies or addresses
// can grow the heap; evicting an idle bucket forgets nothing that matters (a full bucket).
import type { Context, Next } from 'koa';
import { ApiError } from './errors.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/** A Map that keeps at most `max` entries, dropping the least recently used. */
export class LruMap<K, V> {
  private map = new Map<K, V>();
  constructor(readonly max: number) {}
  get size(): number {
    return this.map.size;
  }
  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

export interface RateLimiterOptions {
  /** Requests a minute per client (bursts up to the same); 0 = no limit. */
  perMinute: number;
  /** New identities a minute per IP address (bursts up to the same). */
  newClientsPerMinute: number;
  maxClients?: number;
  maxAddresses?: number;
}

export type Decision = { ok: true; limit: number; remaining: number; resetS: number } | { ok: false; limit: number; retryS: number; why: 'client' | 'new_client' };

/** Refills `b` at `perMinute` and takes one token if there is one. */
function takeToken(b: Bucket, perMinute: number, now: number): boolean {
  b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) / 60_000) * perMinute);
  b.at = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

const secondsUntilToken = (b: Bucket, perMinute: number) => Math.max(1, Math.ceil(((1 - b.tokens) / perMinute) * 60));

export class RateLimiter {
  private readonly byClient: LruMap<string, Bucket>;
  private readonly byAddress: LruMap<string, Bucket>;

  constructor(readonly opts: RateLimiterOptions) {
    this.byClient = new LruMap(opts.maxClients ?? 100_000);
    this.byAddress = new LruMap(opts.maxAddresses ?? 100_000);
  }

  get clients(): number {
    return this.byClient.size;
  }

  get addresses(): number {
    return this.byAddress.size;
  }

  /** One request by `clientId` from `address` (`fresh`: the id was minted for this request). */
  take(clientId: string, fresh: boolean, address: string, now = Date.now()): Decision {
    const { perMinute, newClientsPerMinute } = this.opts;
    let bucket = fresh ? undefined : this.byClient.get(clientId);
    if (!bucket) {
      const a = this.byAddress.get(address) ?? { tokens: newClientsPerMinute, at: now };
      const allowed = takeToken(a, newClientsPerMinute, now);
      this.byAddress.set(address, a);
      if (!allowed) return { ok: false, limit: perMinute, retryS: secondsUntilToken(a, newClientsPerMinute), why: 'new_client' };
      bucket = { tokens: perMinute, at: now };
      this.byClient.set(clientId, bucket);
    }
    return spend(bucket, perMinute, now);
  }

  /** One request by an API key (verified against the database, so not a forged identity: it
   *  gets its bucket without spending its address's new-client tokens), at the key's own limit. */
  takeForKey(keyId: string, perMinute: number, now = Date.now()): Decision {
    const id = `key:${keyId}`;
    let bucket = this.byClient.get(id);
    if (!bucket) {
      bucket = { tokens: perMinute, at: now };
      this.byClient.set(id, bucket);
    }
    return spend(bucket, perMinute, now);
  }
}

function spend(bucket: Bucket, perMinute: number, now: number): Decision {
  if (!takeToken(bucket, perMinute, now)) return { ok: false, limit: perMinute, retryS: secondsUntilToken(bucket, perMinute), why: 'client' };
  return { ok: true, limit: perMinute, remaining: Math.floor(bucket.tokens), resetS: Math.ceil(((perMinute - bucket.tokens) / perMinute) * 60) };
}

/** The middleware: after identity(), before the route. Admins are not limited; perMinute 0 = off.
 *  An API key has a bucket of its own, at its own limit when it has one (`inkling keys create
 *  --rate-limit N`; 0 = unlimited), else the server's. Every answer carries
 *  RateLimit-Limit/-Remaining/-Reset (draft IETF RateLimit header fields); a 429 also Retry-After. */
export function rateLimit(limiter: RateLimiter | null) {
  return async (ctx: Context, next: Next) => {
    if (!limiter || ctx.state.isAdmin) return next();
    const key = ctx.state.apiKey;
    const perMinute = key?.rateLimit ?? limiter.opts.perMinute;
    if (perMinute <= 0) return next();
    const d = key ? limiter.takeForKey(key.id, perMinute) : limiter.take(ctx.state.clientId, ctx.state.newClient, ctx.ip);
    if (!d.ok) {
      const message = d.why === 'client'
        ? `more than ${d.limit} requests a minute; retry in ${d.retryS} s`
        : `too many new clients from this address; keep the inkling_client cookie between requests, or retry in ${d.retryS} s`;
      throw new ApiError(429, 'rate_limited', message, {
        'Retry-After': String(d.retryS),
        'RateLimit-Limit': String(d.limit),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': String(d.retryS),
      });
    }
    ctx.set('RateLimit-Limit', String(d.limit));
    ctx.set('RateLimit-Remaining', String(d.remaining));
    ctx.set('RateLimit-Reset', String(d.resetS));
    await next();
  };
}
