// Random identifiers for the request path, drawn from a pool of cryptographic random bytes.
// randomBytes(n) makes one getrandom() system call per call (~20-50 µs in this VM, measured as 2%
// of the server's main thread under load); like crypto.randomUUID, which keeps its own entropy
// cache, we draw 4 KiB at a time and hand out slices. The bytes are as unpredictable as
// randomBytes' own: client ids, which scope a caller's history, still need that.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `bytes` random bytes (at most 256) as base64url: 16 bytes give 22 characters. */
export function randomToken(bytes: number): string {
  if (bytes < 1 || bytes > 256) throw new RangeError(`randomToken: ${bytes} bytes (1..256)`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  // `used` only moves forward until the next refill, so no bytes are handed out twice.
  const token = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return token;
}
