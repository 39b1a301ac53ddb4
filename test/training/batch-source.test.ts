import t from 'tap';
import { AUGMENT_PRESETS } from '../../training/augment/config.ts';
import { InlineBatchSource, WorkerBatchSource } from '../../training/data/batch-source.ts';
import { loadMnist, sliceSet } from '../../training/data/mnist.ts';

t.test('the worker thread gives exactly the inline batches, double-buffered, across epochs', async (t) => {
  const set = sliceSet(loadMnist().train, 0, 300);
  const o = { set, batchSize: 64, seed: 4, augment: AUGMENT_PRESETS.default };
  const inline = new InlineBatchSource(o);
  const worker = new WorkerBatchSource(o);
  t.teardown(() => worker.close());
  t.equal(worker.batchesPerEpoch, 4);
  for (const epoch of [0, 1]) {
    inline.startEpoch(epoch);
    worker.startEpoch(epoch);
    for (let b = 0; b < 4; b++) {
      const a = await inline.get(b);
      const w = await worker.get(b);
      t.equal(w.size, 64);
      if (!Buffer.from(a.images.buffer, a.images.byteOffset, a.images.byteLength).equals(Buffer.from(w.images.buffer, w.images.byteOffset, w.images.byteLength))) {
        t.fail(`epoch ${epoch} batch ${b}: images differ`);
      }
      t.same(Array.from(w.labels), Array.from(a.labels), `epoch ${epoch} batch ${b} labels`);
    }
  }
  t.ok(worker.waitMs >= 0 && inline.waitMs > 0);
});
