// The seeded generator: reproducible streams, sane distributions, unbiased shuffles.

import t from 'tap';
import { Rng, permutation, shuffle } from '../../src/nn/random.ts';

t.test('same seed, same stream; different seeds, different streams', async (t) => {
  const a = new Rng(123);
  const b = new Rng(123);
  const c = new Rng(124);
  const sa = Array.from({ length: 8 }, () => a.nextU32());
  t.same(sa, Array.from({ length: 8 }, () => b.nextU32()));
  t.notSame(sa, Array.from({ length: 8 }, () => c.nextU32()));
  t.ok(sa.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
});

t.test('uniform and normal moments', async (t) => {
  const r = new Rng(1);
  const n = 50000;
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  let minU = 1;
  let maxU = 0;
  for (let i = 0; i < n; i++) {
    const u = r.nextFloat();
    su += u;
    minU = Math.min(minU, u);
    maxU = Math.max(maxU, u);
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  t.ok(minU >= 0 && maxU < 1, 'nextFloat in [0, 1)');
  t.ok(Math.abs(su / n - 0.5) < 0.01, `uniform mean ${su / n}`);
  t.ok(Math.abs(sn / n) < 0.02, `normal mean ${sn / n}`);
  t.ok(Math.abs(sn2 / n - 1) < 0.03, `normal variance ${sn2 / n}`);
});

t.test('shuffle and permutation: a permutation, reproducible, every position equally likely', async (t) => {
  const p = permutation(100, new Rng(5));
  t.same(Array.from(p).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  t.same(Array.from(permutation(100, new Rng(5))), Array.from(p));
  // where element 0 lands over many shuffles of 4: each slot about 1/4
  const counts = [0, 0, 0, 0];
  const r = new Rng(9);
  for (let i = 0; i < 8000; i++) counts[shuffle([0, 1, 2, 3], r).indexOf(0)]++;
  t.ok(counts.every((c) => Math.abs(c / 8000 - 0.25) < 0.03), `slots ${counts.join(' ')}`);
  t.throws(() => r.nextInt(0), /nextInt/);
});
