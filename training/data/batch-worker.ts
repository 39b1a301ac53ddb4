// The worker side of WorkerBatchSource (batch-source.ts): owns a Batcher + Augmenter over a copy
// of the training set and fills the shared slots on request, one at a time, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { Augmenter } from '../augment/augmenter.ts';
import type { FromWorker, ToWorker, WorkerInit } from './batch-source.ts';
import { Batcher, type BatchBuffers } from './batcher.ts';
import { IMAGE_PIXELS } from './mnist.ts';

const init = workerData as WorkerInit;
const batcher = new Batcher(
  { count: init.count, pixels: init.pixels, labels: init.labels },
  { batchSize: init.batchSize, shuffle: true, seed: init.seed, dropLast: true, augmenter: new Augmenter(init.augment, init.seed) },
);
const slots: BatchBuffers[] = [0, 1].map((s) => ({
  images: new Float32Array(init.images, s * init.batchSize * IMAGE_PIXELS * 4, init.batchSize * IMAGE_PIXELS),
  labels: new Int32Array(init.labelsOut, s * init.batchSize * 4, init.batchSize),
  size: 0,
}));

parentPort!.on('message', (m: ToWorker) => {
  try {
    batcher.startEpoch(m.epoch);
    const out = batcher.fill(m.batch, slots[m.slot]);
    parentPort!.postMessage({ type: 'filled', slot: m.slot, size: out.size } satisfies FromWorker);
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies FromWorker);
  }
});
