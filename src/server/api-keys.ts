// API keys: `Authorization: Bearer ink_<prefix>_<secret>`. The prefix finds the row, the SHA-256
// of the whole key is compared in constant time. A verified key is remembered for
// KEY_CACHE_MS (one query per key per second at most under load, not one per request), so a
// revoked key stops working within that time on every replica; while the database is
// unreachable, a key verified before keeps working (the replica keeps answering), an unknown one
// gets 503.
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomToken } from './random-tokens.ts';
import type { ApiKeyRow } from './db/api-keys.ts';

export const KEY_CACHE_MS = 1000;
const KEY_FORMAT = /^ink_([A-Za-z0-9-]{16})_([A-Za-z0-9_-]{32})$/;

export interface VerifiedKey {
  id: string;
  name: string;
  /** Requests per minute for this key; null = the server's INKLING_RATE_LIMIT. */
  rateLimit: number | null;
}

export const hashKey = (key: string): Buffer => createHash('sha256').update(key).digest();

/** A new key: 16 characters of prefix (looked up, shown in lists) and 32 of secret (192 bits). */
export function generateKey(): { key: string; prefix: string; secretHash: Buffer } {
  // The prefix avoids '_' so that the separator stays unambiguous.
  const prefix = randomToken(12).replace(/_/g, '-');
  const key = `ink_${prefix}_${randomToken(24)}`;
  return { key, prefix, secretHash: hashKey(key) };
}

export const looksLikeApiKey = (token: string): boolean => token.startsWith('ink_');

export type KeyCheck = { ok: true; key: VerifiedKey } | { ok: false; reason: 'invalid' | 'revoked' | 'unavailable' };

export class ApiKeyVerifier {
  private cache = new Map<string, { row: ApiKeyRow; at: number }>();

  /** `lookup` finds a key's row by prefix (server.ts passes one guarded by the database's
   *  breaker and read timeout, so a hung database answers 503, not a hung request). */
  constructor(private readonly lookup: (prefix: string) => Promise<ApiKeyRow | null>, private readonly now = () => Date.now()) {}

  async verify(token: string): Promise<KeyCheck> {
    const m = KEY_FORMAT.exec(token);
    if (!m) return { ok: false, reason: 'invalid' };
    const prefix = m[1];
    let entry = this.cache.get(prefix);
    if (!entry || this.now() - entry.at > KEY_CACHE_MS) {
      try {
        const row = await this.lookup(prefix);
        if (!row) {
          this.cache.delete(prefix);
          return { ok: false, reason: 'invalid' };
        }
        entry = { row, at: this.now() };
        if (this.cache.size > 10_000) this.cache.clear(); // bound: keys are few, tokens are not
        this.cache.set(prefix, entry);
      } catch {
        if (!entry) return { ok: false, reason: 'unavailable' };
        // Database unreachable: keep trusting what was verified before.
      }
    }
    const given = hashKey(token);
    if (!timingSafeEqual(given, entry.row.secret_hash)) return { ok: false, reason: 'invalid' };
    if (entry.row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    return { ok: true, key: { id: entry.row.id, name: entry.row.name, rateLimit: entry.row.rate_limit } };
  }
}
