// Training end to end on the ref backend: a small conv net learns a synthetic, separable task
// (which half of a 6x6 image is brighter), with device-side metrics; and the tensor layer's own
// cost per op stays in the microseconds.

import t from 'tap';
import {
  AdamW, BatchNorm2d, Conv2d, F, Flatten, Linear, MaxPool2d, ReLU, RunningMetrics, SGD, Sequential, Tensor, noGrad, tidy,
} from '../../src/nn/index.ts';
import { Rng } from '../../src/nn/random.ts';
import { refBackend } from './helpers.ts';

const be = await refBackend();

function batch(rng: Rng, n: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(n * 36);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.nextInt(2);
    y[i] = label;
    for (let p = 0; p < 36; p++) {
      const top = p < 18;
      x[i * 36 + p] = rng.normal() * 0.5 + ((label === 0) === top ? 1 : 0);
    }
  }
  return { x: Tensor.fromArray(be, x, [n, 1, 6, 6]), y: Tensor.fromArray(be, y, [n]) };
}

t.test('a small conv net learns a separable task: loss falls, accuracy rises', async (t) => {
  for (const makeOpt of [
    (ps: Tensor[]) => new AdamW(ps, { lr: 0.01 }),
    (ps: Tensor[]) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }),
  ]) {
    const rng = new Rng(31);
    const net = new Sequential(be, [
      new Conv2d(be, 1, 4, 3, { pad: 1, rng }),
      new BatchNorm2d(be, 4),
      new ReLU(be),
      new MaxPool2d(be, 2),
      new Flatten(be),
      new Linear(be, 36, 2, { rng }),
    ]);
    const opt = makeOpt(net.parameters());
    const metrics = new RunningMetrics(be);
    const test = batch(new Rng(99), 64);
    const evalLoss = async (): Promise<number> => {
      net.eval();
      const l = tidy(() => noGrad(() => F.softmaxCrossEntropy(net.forward(test.x), test.y)));
      const v = await l.item();
      l.dispose();
      net.train();
      return v;
    };
    const initial = await evalLoss();
    for (let step = 0; step < 40; step++) {
      const { x, y } = batch(rng, 16);
      tidy(() => {
        opt.zeroGrad();
        const logits = net.forward(x);
        const loss = F.softmaxCrossEntropy(logits, y);
        loss.backward();
        opt.step();
        if (step >= 30) metrics.add(loss, logits, y);
      });
      x.dispose();
      y.dispose();
    }
    const final = await evalLoss();
    const m = await metrics.read();
    t.ok(final < initial * 0.5, `${opt.type}: held-out loss ${initial.toFixed(3)} → ${final.toFixed(3)}`);
    t.ok(m.accuracy > 0.9, `${opt.type}: training accuracy over the last 10 steps ${m.accuracy.toFixed(3)}`);
    t.equal(m.samples, 160);
    metrics.dispose();
    opt.dispose();
    net.dispose();
    test.x.dispose();
    test.y.dispose();
  }
});

t.test('the tensor layer adds microseconds per op (ref backend, 4-element tensors)', async (t) => {
  const x = Tensor.fromArray(be, [1, 2, 3, 4], [4], { requiresGrad: true });
  const n = 20000;
  const chain = 100;
  const medianUs = (f: () => void): number => {
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      f();
      runs.push(((performance.now() - t0) * 1000) / n);
    }
    return runs.sort((a, b) => a - b)[2];
  };
  const xb = x.buffer as Parameters<typeof be.scale>[0];
  const raw = medianUs(() => {
    for (let i = 0; i < n; i++) {
      const b = be.alloc(4, 'f32');
      be.scale(xb, 2, 0, b);
      be.free(b);
    }
  });
  const forward = medianUs(() => {
    for (let i = 0; i < n; i += chain) tidy(() => { for (let j = 0; j < chain; j++) F.scale(x, 2); });
  });
  const both = medianUs(() => {
    for (let i = 0; i < n; i += chain) {
      tidy(() => {
        let h = x;
        for (let j = 0; j < chain - 1; j++) h = F.scale(h, 1);
        F.sum(h).backward();
      });
    }
  });
  t.comment(`raw alloc+kernel+free ${raw.toFixed(2)} µs; recorded op ${forward.toFixed(2)} µs; forward+backward per op ${both.toFixed(2)} µs`);
  // generous bounds: this machine is shared; a regression to tens of µs per op still fails
  t.ok(forward < 15, `recorded op ${forward.toFixed(2)} µs`);
  t.ok(both < 30, `forward+backward ${both.toFixed(2)} µs per op`);
  x.dispose();
});
