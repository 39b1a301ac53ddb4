// Inference over a whole set in batches: logits to the host, nothing else kept.
import type { Backend } from '../src/nn/backend.ts';
import { noGrad, tidy } from '../src/nn/autograd.ts';
import type { Module } from '../src/nn/modules/module.ts';
import { Tensor } from '../src/nn/tensor.ts';
import { allocBatch, Batcher } from './data/batcher.ts';
import { CLASSES, type DigitSet, IMAGE_SIDE } from './data/mnist.ts';

/** Logits [set.count, 10] in the set's order, in eval mode (restores the previous mode). */
export async function predictLogits(model: Module, backend: Backend, set: DigitSet, batchSize = 500): Promise<Float32Array> {
  const wasTraining = model.training;
  model.eval();
  const batcher = new Batcher(set, { batchSize, shuffle: false, seed: 0, dropLast: false });
  const host = allocBatch(batchSize);
  const out = new Float32Array(set.count * CLASSES);
  const pending: Promise<void>[] = [];
  try {
    for (let b = 0; b < batcher.batchesPerEpoch; b++) {
      batcher.fill(b, host);
      const n = host.size;
      const logits = noGrad(() =>
        tidy(() => {
          const x = Tensor.fromArray(backend, host.images.subarray(0, n * IMAGE_SIDE * IMAGE_SIDE), [n, 1, IMAGE_SIDE, IMAGE_SIDE]);
          return model.forward(x);
        }),
      );
      const offset = b * batchSize * CLASSES;
      // toArray is enqueued in order; the tensor is released once its copy has landed.
      pending.push(logits.toArray().then((a) => {
        out.set(a as Float32Array, offset);
        logits.dispose();
      }));
      if (pending.length >= 4) await pending.shift();
    }
    await Promise.all(pending);
  } finally {
    if (wasTraining) model.train();
  }
  return out;
}
