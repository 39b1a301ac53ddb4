// The emulated backends' training run: a small CNN with every layer type of the seed CNN (conv + BN
// + ReLU + maxpool twice, dropout2d, linear + ReLU, dropout, linear) on real MNIST digits shrunk to
// 14×14 by 2×2 averaging, Adam, the first TRAIN digits in a seeded shuffled order. The seed CNN at
// 28×28 costs about a minute per step on the emulator; this model keeps every kernel family and
// takes a fraction of a second, so 200 steps fit a CI stage. Same weights, batches and dropout masks
// on every backend, so loss curves can be compared step by step.
//
// Every step goes through graphedStep (src/nn/backends/cuda/graph-step.ts): on a backend that can
// capture (cuda, cuda-emu) the step is captured once after the warm-up and replayed; on any other
// it runs eagerly. `trainsLikeCpu` is the stage test both emulator stages share.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { graphedStep } from '../../src/nn/backends/cuda/graph-step.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import {
  Adam, BatchNorm2d, Conv2d, Dropout, Dropout2d, Flatten, Linear, MaxPool2d, ReLU, Rng, Sequential, Tensor, classifierStep, shuffle,
} from '../../src/nn/index.ts';
import { parseIdxImages, parseIdxLabels } from '../../training/data/idx.ts';
import { defaultMnistDir } from '../../training/data/mnist.ts';
import { seconds } from './emulator-gate.ts';

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
  /** Learning rate of step i (a schedule), default 3e-3 throughout. Replays get it through replay({ lr }).
   *  (At 2e-3, metal-emu's loss curve leaves cpu's at step ~165: a discrete flip, from a gap of
   *  7e-6 to 1e-3 within a few steps, as fp32 rounding differences tip a max-pool or ReLU decision
   *  the other way; cuda-emu's stays within 5e-7. At 3e-3 both stay within 1e-5 for 200 steps.) */
  lr?: (step: number) => number;
}

export interface SmallRun {
  /** The loss of every step, read back after it. */
  losses: number[];
  /** The trained parameters. */
  weights: Float32Array[];
  /** Steps executed by graph replay (0 on a backend without capture). */
  replays: number;
}

/** `steps` steps of smallCnn on `be`, graphed (warm-up 2) where the backend can capture. Frees
 *  everything it allocated. */
export async function smallCnnRun(be: Backend, opts: SmallRunOptions): Promise<SmallRun> {
  const batch = opts.batch ?? 16;
  const train = opts.train ?? 1024;
  const lr = opts.lr ?? (() => 3e-3);
  const S = SMALL_SIDE;
  const data = smallDigits(train);
  const net = smallCnn(be);
  const opt = new Adam(net.parameters(), { lr: lr(0) });
  const x = Tensor.zeros(be, [batch, 1, S, S]);
  const y = Tensor.zeros(be, [batch], { dtype: 'i32' });
  // The step reads its inputs from x and y and leaves its loss in `loss`; a graph replay rewrites the
  // loss tensor of the captured step, so the loss lives until the next eager step replaces it.
  let loss: Tensor | null = null;
  const step = (): void => {
    loss?.dispose();
    loss = classifierStep(net, opt, x, y);
  };
  let current = 0;
  const g = graphedStep(be, step, { warmup: 2, lr: () => lr(current) });
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
      x.write(xb);
      y.write(yb);
      current = i;
      opt.lr = lr(i); // eager steps read the optimizer's lr; replays get lr() through the hyper block
      g.run();
      losses.push(await (loss as Tensor | null)!.item());
    }
    const weights = await Promise.all(net.parameters().map(async (p) => (await p.toArray()) as Float32Array));
    return { losses, weights, replays: g.replays };
  } finally {
    g.release();
    (loss as Tensor | null)?.dispose();
    x.dispose();
    y.dispose();
    opt.dispose();
    net.dispose();
  }
}

/** The largest per-step difference |got − want| / max(1, |want|), and its step. */
export function lossCurveGap(got: readonly number[], want: readonly number[]): { worst: number; step: number } {
  let worst = 0;
  let step = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(d <= worst)) { // NaN counts as the worst
      worst = d;
      step = i;
    }
  }
  return { worst, step };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The emulator stages' training test: `steps` steps on `emu` and on cpu (ref where the cpu addon is
 *  missing) from the same weights, batches and dropout masks. Every loss finite, the two curves
 *  within `tolerance` at every step, the loss falling, every buffer freed. Returns the emulator's
 *  run for the stage's own checks (e.g. graph replays). */
export async function trainsLikeCpu(t: Test, emu: Backend, opts: { steps: number; tolerance: number }): Promise<SmallRun> {
  const t0 = performance.now();
  const before = emu.stats();
  const got = await smallCnnRun(emu, { steps: opts.steps });
  const emuTime = seconds(t0);
  const t1 = performance.now();
  const peer: Backend = (await createCpuBackend().catch(() => null)) ?? new RefBackend();
  const want = await smallCnnRun(peer, { steps: opts.steps });
  peer.dispose();
  const gap = lossCurveGap(got.losses, want.losses);
  const first = mean(got.losses.slice(0, 20));
  const last = mean(got.losses.slice(-20));
  t.comment(`${emu.name} ${opts.steps} steps ${emuTime} (${got.replays} graph replays), ${peer.name} ${seconds(t1)}; ` +
    `loss ${first.toFixed(3)} -> ${last.toFixed(3)}; largest per-step difference ${gap.worst.toExponential(2)} (step ${gap.step}), tolerance ${opts.tolerance}`);
  t.equal(got.losses.length, opts.steps, 'a loss for every step');
  t.ok(got.losses.every(Number.isFinite), 'every loss is finite');
  t.ok(gap.worst <= opts.tolerance, `loss matches ${peer.name} at every step within ${opts.tolerance} (worst ${gap.worst.toExponential(2)} at step ${gap.step})`);
  t.ok(last < first * 0.6, `the loss falls (mean of the first 20 steps ${first.toFixed(3)} -> last 20 ${last.toFixed(3)})`);
  t.same(emu.stats(), before, 'every buffer of the run was freed');
  return got;
}
