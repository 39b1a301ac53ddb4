// The emulated backends' training run: a small CNN with every layer type of the seed CNN (conv + BN
// + ReLU + maxpool twice, dropout2d, linear + ReLU, dropout, linear) on real MNIST digits shrunk to
// 14×14 by 2×2 averaging, Adam, the first TRAIN digits in a seeded shuffled order. The seed CNN at
// 28×28 costs about a minute per step on the emulator; this model keeps every kernel family and
// takes a fraction of a second, so 200 steps fit a CI stage. Same weights, batches and dropout masks
// on every backend, so loss curves can be compared step by step (callers state the tolerance).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../src/nn/backend.ts';
import {
  Adam, BatchNorm2d, Conv2d, Dropout, Dropout2d, F, Flatten, Linear, MaxPool2d, ReLU, Rng, Sequential, Tensor, shuffle, tidy,
} from '../../src/nn/index.ts';
import { parseIdxImages, parseIdxLabels } from '../../training/data/idx.ts';
import { defaultMnistDir } from '../../training/data/mnist.ts';

export const SMALL_SIDE = 14;

/** The first `count` training digits, 2×2-averaged to 14×14 and normalised like the seed CNN's input. */
export function smallDigits(count: number): { x: Float32Array; y: Int32Array } {
  const dir = defaultMnistDir();
  const img = parseIdxImages(new Uint8Array(readFileSync(join(dir, 'train-images-idx3-ubyte'))));
  const lab = parseIdxLabels(new Uint8Array(readFileSync(join(dir, 'train-labels-idx1-ubyte'))));
  const S = SMALL_SIDE;
  const x = new Float32Array(count * S * S);
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        let s = 0;
        for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) s += img.pixels[n * 784 + (2 * r + dr) * 28 + 2 * c + dc];
        x[(n * S + r) * S + c] = (s / (4 * 255) - 0.1307) / 0.3081;
      }
    }
  }
  return { x, y: Int32Array.from(lab.labels.subarray(0, count)) };
}

export function smallCnn(be: Backend): Sequential {
  const rng = new Rng(11);
  return new Sequential(be, [
    new Conv2d(be, 1, 4, 3, { pad: 1, rng }),
    new BatchNorm2d(be, 4),
    new ReLU(be),
    new MaxPool2d(be, 2), // 7×7
    new Conv2d(be, 4, 8, 3, { pad: 1, rng }),
    new BatchNorm2d(be, 8),
    new ReLU(be),
    new MaxPool2d(be, 2), // 3×3
    new Dropout2d(be, 0.1, { seed: 3 }),
    new Flatten(be),
    new Linear(be, 72, 32, { rng }),
    new ReLU(be),
    new Dropout(be, 0.25, { seed: 4 }),
    new Linear(be, 32, 10, { rng }),
  ]);
}

export interface SmallRunOptions {
  steps: number;
  batch?: number;  // default 16
  train?: number;  // digits cycled through, default 1024
  lr?: number;     // default 3e-3
}

/** The loss of every step (read back after it) and the final weights. */
export async function smallCnnLosses(be: Backend, opts: SmallRunOptions): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const batch = opts.batch ?? 16;
  const train = opts.train ?? 1024;
  const S = SMALL_SIDE;
  const data = smallDigits(train);
  const net = smallCnn(be);
  const opt = new Adam(net.parameters(), { lr: opts.lr ?? 3e-3 });
  const x = Tensor.zeros(be, [batch, 1, S, S]);
  const y = Tensor.zeros(be, [batch], { dtype: 'i32' });
  const order = Array.from({ length: train }, (_, i) => i);
  const shuffler = new Rng(5);
  const xb = new Float32Array(batch * S * S);
  const yb = new Int32Array(batch);
  const losses: number[] = [];
  net.train();
  try {
    for (let i = 0; i < opts.steps; i++) {
      const start = (i * batch) % train;
      if (start === 0) shuffle(order, shuffler);
      for (let b = 0; b < batch; b++) {
        const k = order[start + b];
        xb.set(data.x.subarray(k * S * S, (k + 1) * S * S), b * S * S);
        yb[b] = data.y[k];
      }
      be.upload(x.buffer, xb);
      be.upload(y.buffer, yb);
      const loss = tidy(() => {
        opt.zeroGrad();
        const l = F.softmaxCrossEntropy(net.forward(x), y);
        l.backward();
        opt.step();
        return l;
      });
      losses.push(await loss.item());
      loss.dispose();
    }
    const weights = await Promise.all(net.parameters().map(async (p) => (await p.toArray()) as Float32Array));
    return { losses, weights };
  } finally {
    x.dispose();
    y.dispose();
    opt.dispose();
    net.dispose();
  }
}
