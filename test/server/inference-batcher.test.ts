// Dynamic batching: concurrent requests share forward passes, bounded by maxBatch; maxWaitMs
// holds a lone request for company; every caller gets its own row back.
import t from 'tap';
import { InferenceBatcher } from '../../src/server/inference-batcher.ts';

/** A fake model: "probabilities" row i = the first 10 inputs of image i; records batch sizes. */
function fakeModel(delayMs = 5) {
  const sizes: number[] = [];
  return {
    sizes,
    async predict(x: Float32Array, n: number) {
      sizes.push(n);
      await new Promise((r) => setTimeout(r, delayMs));
      const out = new Float32Array(n * 10);
      for (let i = 0; i < n; i++) out.set(x.subarray(i * 784, i * 784 + 10), i * 10);
      return out;
    },
  };
}
const image = (v: number) => new Float32Array(784).fill(v);

t.test('requests arriving together form one batch; each gets its own result', async (t) => {
  const m = fakeModel();
  const b = new InferenceBatcher(m, 32, 0);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.predict(image(i))));
  t.same(m.sizes, [10]);
  results.forEach((r, i) => {
    t.equal(r.probabilities[0], i, `caller ${i} got row ${i}`);
    t.equal(r.batchSize, 10);
  });
});

t.test('maxBatch bounds a batch; requests that arrive while one runs form the next', async (t) => {
  const m = fakeModel(20);
  const b = new InferenceBatcher(m, 4, 0);
  const first = Promise.all(Array.from({ length: 10 }, (_, i) => b.predict(image(i))));
  await new Promise((r) => setTimeout(r, 5)); // the first batch is running
  const late = Promise.all(Array.from({ length: 3 }, (_, i) => b.predict(image(100 + i))));
  const [a, c] = await Promise.all([first, late]);
  t.equal(m.sizes[0], 4);
  t.ok(m.sizes.every((s) => s <= 4), `batches ${m.sizes.join(', ')}`);
  t.equal(m.sizes.reduce((x, y) => x + y, 0), 13);
  t.same(a.map((r) => r.probabilities[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.same(c.map((r) => r.probabilities[0]), [100, 101, 102]);
});

t.test('maxWaitMs collects requests spread over time into one batch', async (t) => {
  const m = fakeModel(1);
  const b = new InferenceBatcher(m, 32, 40);
  const ps = [b.predict(image(1))];
  await new Promise((r) => setTimeout(r, 10));
  ps.push(b.predict(image(2)));
  await Promise.all(ps);
  t.same(m.sizes, [2], 'the second request joined within the wait');
});

t.test('a failing forward pass rejects every caller of that batch, the next batch still runs', async (t) => {
  let fail = true;
  const b = new InferenceBatcher({
    async predict(_x: Float32Array, n: number) {
      if (fail) {
        fail = false;
        throw new Error('device lost');
      }
      return new Float32Array(n * 10);
    },
  }, 8, 0);
  const results = await Promise.allSettled([b.predict(image(0)), b.predict(image(1))]);
  t.same(results.map((r) => r.status), ['rejected', 'rejected']);
  const ok = await b.predict(image(2));
  t.equal(ok.probabilities.length, 10);
  t.throws(() => b.predict(new Float32Array(10)), /expected 784/);
});
