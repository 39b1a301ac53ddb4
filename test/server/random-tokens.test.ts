// Pooled random tokens: the right length and alphabet, no repeats (the pool is refilled, never
// reused), and bad sizes refused.
import t from 'tap';
import { randomToken } from '../../src/server/random-tokens.ts';

t.test('tokens are base64url of the requested size and do not repeat', async (t) => {
  const seen = new Set<string>();
  let malformed = 0;
  // 20,000 tokens of 9 and 16 bytes cross the 4 KiB pool boundary many times, at varying offsets.
  for (let i = 0; i < 20_000; i++) {
    const tok = randomToken(i % 3 === 0 ? 9 : 16);
    if (!(i % 3 === 0 ? /^[A-Za-z0-9_-]{12}$/ : /^[A-Za-z0-9_-]{22}$/).test(tok)) malformed++;
    seen.add(tok);
  }
  t.equal(malformed, 0, 'every token is base64url of the right length');
  t.equal(seen.size, 20_000, 'no token handed out twice');
});

t.test('sizes outside 1..256 are refused', async (t) => {
  t.throws(() => randomToken(0), RangeError);
  t.throws(() => randomToken(257), RangeError);
});
