import t from 'tap';
import { dropoutKeepScale, dropoutKeepThreshold, dropoutKey, dropoutUniform, lowbias32 } from '../../src/nn/dropout-rng.ts';

// Expected values printed by the same steps in C with uint32_t arithmetic: the vectors every
// backend's dropout must reproduce.
t.test('lowbias32 and the dropout hash match the C reference', async (t) => {
  t.equal(lowbias32(1), 1753845952);
  t.equal(lowbias32(0xdeadbeef), 3861431939);
  t.equal(lowbias32(0xffffffff), 1734902346);
  const key = dropoutKey(1234, 7);
  t.equal(key, 2261802083);
  t.ok(Math.abs(dropoutUniform(key, 0) - 0.221231282) < 1e-9);
  t.ok(Math.abs(dropoutUniform(key, 2) - 0.357367516) < 1e-9);
});

t.test('dropout uniforms are in [0,1) and about uniform', async (t) => {
  const key = dropoutKey(1234, 7);
  let sum = 0;
  let below = 0;
  let outOfRange = 0;
  const n = 100000;
  for (let i = 0; i < n; i++) {
    const u = dropoutUniform(key, i);
    if (!(u >= 0 && u < 1)) outOfRange++;
    sum += u;
    if (u < 0.25) below++;
  }
  t.equal(outOfRange, 0);
  t.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  t.ok(Math.abs(below / n - 0.25) < 0.01, `P(u<0.25) ${below / n}`);
  t.not(dropoutKey(1234, 8), key, 'the step changes the key');
});

t.test('the keep threshold is the exact integer form of u >= p', async (t) => {
  const key = dropoutKey(36040, 0);
  for (const p of [0, 0.1, 0.25, 0.5, 0.7, 0.9, 1, 5 / 16777216]) {
    const thr = dropoutKeepThreshold(p);
    let mismatches = 0;
    for (let i = 0; i < 4096; i++) {
      const bits24 = dropoutUniform(key, i) * 16777216;
      if ((bits24 >= thr) !== (dropoutUniform(key, i) >= p)) mismatches++;
    }
    t.equal(mismatches, 0, `p = ${p}`);
  }
  t.equal(dropoutKeepThreshold(1), 16777216, 'p = 1 keeps nothing');
  t.throws(() => dropoutKeepThreshold(-0.1), /p must be in \[0, 1\]/);
  t.equal(dropoutKeepScale(0.5), 2);
  t.equal(dropoutKeepScale(1), 0);
});
