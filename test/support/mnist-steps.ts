// A short, deterministic training run of the seed CNN on real MNIST digits: the same `steps`
// batches (the first steps·batch training images, in file order), the same seeded weights and
// dropout masks, Adam. Returns the loss of every step, read back after the step (a readback per
// step, so a backend's queued work is flushed as in real training).
//
// Used where a backend must be shown to *train* and not only to pass kernel cases: the arm64
// stage (cpu NEON under qemu, compared with the host's cpu) and the emulated GPU backends' stages
// (compared with cpu). Losses of different backends agree to fp32 rounding only; callers state
// the tolerance they compare with.

import type { Backend } from '../../src/nn/backend.ts';
import { Adam, Tensor, classifierStep, createSeedCnn } from '../../src/nn/index.ts';
import { IMAGE_PIXELS, defaultMnistDir, loadIdxPair } from '../../training/data/mnist.ts';
import { join } from 'node:path';

export interface MnistStepsOptions {
  steps: number;
  batch: number;
  /** Weight init and dropout seed (default 1). */
  seed?: number;
  lr?: number;
  /** Called after each step with its loss (progress lines in long runs). */
  onStep?: (step: number, loss: number) => void;
}

/** MNIST's normalisation, as training/ applies it: (x/255 − 0.1307) / 0.3081. */
function normalise(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] / 255 - 0.1307) / 0.3081;
  return out;
}

export async function mnistTrainingLosses(backend: Backend, opts: MnistStepsOptions): Promise<number[]> {
  const dir = defaultMnistDir();
  const set = loadIdxPair(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte'));
  if (opts.steps * opts.batch > set.count) throw new Error(`${opts.steps}·${opts.batch} images asked, MNIST has ${set.count}`);
  const model = createSeedCnn(backend, { seed: opts.seed ?? 1 });
  const opt = new Adam(model.parameters(), { lr: opts.lr ?? 1e-3 });
  const x = Tensor.zeros(backend, [opts.batch, 1, 28, 28]);
  const y = Tensor.zeros(backend, [opts.batch], { dtype: 'i32' });
  const losses: number[] = [];
  try {
    model.train();
    for (let step = 0; step < opts.steps; step++) {
      const first = step * opts.batch;
      backend.upload(x.buffer, normalise(set.pixels.subarray(first * IMAGE_PIXELS, (first + opts.batch) * IMAGE_PIXELS)));
      backend.upload(y.buffer, Int32Array.from(set.labels.subarray(first, first + opts.batch)));
      const loss = classifierStep(model, opt, x, y);
      const value = await loss.item();
      loss.dispose();
      losses.push(value);
      opts.onStep?.(step, value);
    }
  } finally {
    x.dispose();
    y.dispose();
    model.dispose();
    opt.dispose();
  }
  return losses;
}
