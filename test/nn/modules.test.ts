// Modules: PyTorch state_dict names, the seed CNN's size and shapes, train/eval, fusion, dropout
// steps, seeded init.

import t from 'tap';
import {
  BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Dropout2d, F, Flatten, Linear, MaxPool2d, ReLU, SEED_CNN_PARAMETERS, Sequential, Tensor,
  Adam, createSeedCnn, noGrad, tidy,
} from '../../src/nn/index.ts';
import type { Backend } from '../../src/nn/backend.ts';
import { RefBackend } from '../../src/nn/backends/ref/index.ts';
import { createCpuBackend } from '../../src/nn/backends/cpu/index.ts';
import { Rng } from '../../src/nn/random.ts';
import { randn, refBackend, toF32 } from './helpers.ts';

const be = await refBackend();

/** One forward and backward of sum(y²) with the net's fusion on or off: the output and every
 *  parameter's gradient (the fusion tests compare the two). */
async function stepWithFusion(net: Sequential, x: Tensor, fuse: boolean): Promise<{ out: number[]; grads: number[][] }> {
  net.fuse = fuse;
  net.zeroGrad();
  const out = tidy(() => {
    const y = net.forward(x);
    F.sum(F.mul(y, y)).backward();
    return y;
  });
  const res = {
    out: Array.from(await toF32(out)),
    grads: await Promise.all(net.parameters().map(async (p) => Array.from(await toF32(p.grad!)))),
  };
  out.dispose();
  return res;
}

t.test('seed CNN: 421,834 parameters, PyTorch names, logits [N, 10]', async (t) => {
  const m = createSeedCnn(be, { seed: 1 });
  t.equal(m.parameterCount(), 421834);
  t.equal(SEED_CNN_PARAMETERS, 421834);
  t.same(
    m.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`),
    [
      'conv1.weight:32x1x3x3', 'conv1.bias:32', 'bn1.weight:32', 'bn1.bias:32',
      'conv2.weight:64x32x3x3', 'conv2.bias:64', 'bn2.weight:64', 'bn2.bias:64',
      'fc1.weight:128x3136', 'fc1.bias:128', 'fc2.weight:10x128', 'fc2.bias:10',
    ],
  );
  t.same(m.namedBuffers().map(([n]) => n), [
    'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
    'bn2.running_mean', 'bn2.running_var', 'bn2.num_batches_tracked',
  ]);
  const sd = await m.stateDict();
  t.same(Object.keys(sd).slice(0, 7), [
    'conv1.weight', 'conv1.bias', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
  ], 'state_dict order: each module’s parameters, then its buffers');
  t.equal(sd['bn1.num_batches_tracked'].dtype, 'i64');
  t.same(sd['bn1.num_batches_tracked'].shape, []);
  const x = randn(be, [2, 1, 28, 28], new Rng(2));
  const y = tidy(() => noGrad(() => m.eval().forward(x)));
  t.same(y.shape, [2, 10]);
  const trainOut = tidy(() => m.train().forward(x));
  t.same(trainOut.shape, [2, 10]);
  t.equal((await m.stateDict())['bn2.num_batches_tracked'].data[0], 1n, 'a training forward counts a batch');
  y.dispose();
  trainOut.dispose();
  m.dispose();
});

t.test('init: seeded, reproducible, PyTorch bounds', async (t) => {
  const a = new Linear(be, 50, 20, { rng: new Rng(5) });
  const b = new Linear(be, 50, 20, { rng: new Rng(5) });
  const c = new Linear(be, 50, 20, { rng: new Rng(6) });
  const wa = await toF32(a.weight);
  t.same(Array.from(wa), Array.from(await toF32(b.weight)), 'same seed, same weights');
  t.notSame(Array.from(wa), Array.from(await toF32(c.weight)), 'another seed, other weights');
  const bound = 1 / Math.sqrt(50);
  t.ok(wa.every((v) => Math.abs(v) <= bound), 'kaiming_uniform(a=√5) bound is 1/√fan_in');
  t.ok(Math.max(...wa.map(Math.abs)) > 0.9 * bound, 'and the bound is reached');
  const bias = await toF32(a.bias!);
  t.ok(bias.every((v) => Math.abs(v) <= bound));
  const conv = new Conv2d(be, 3, 4, 5, { rng: new Rng(1) });
  const cw = await toF32(conv.weight);
  t.ok(cw.every((v) => Math.abs(v) <= 1 / Math.sqrt(75)), 'conv fan_in = in·kh·kw');
  const bn = new BatchNorm2d(be, 3);
  t.same(Array.from(await toF32(bn.weight)), [1, 1, 1]);
  t.same(Array.from(await toF32(bn.runningVar)), [1, 1, 1]);
  for (const m of [a, b, c, conv, bn]) m.dispose();
});

t.test('Sequential fuses Conv/Linear/BatchNorm + ReLU with the same forward and gradients', async (t) => {
  const rng = new Rng(9);
  const net = new Sequential(be, [
    new Conv2d(be, 2, 3, 3, { pad: 1, rng }),
    new ReLU(be),
    new BatchNorm2d(be, 3),
    new ReLU(be),
    new Flatten(be),
    new Linear(be, 48, 5, { rng }),
    new ReLU(be),
  ]);
  t.equal(net.length, 7);
  const x = randn(be, [2, 2, 4, 4], rng);
  const run = (fuse: boolean) => stepWithFusion(net, x, fuse);
  // count the backend's separate ReLU passes while each variant runs
  let reluPasses = 0;
  const unary = be.unary.bind(be);
  be.unary = (op, a, out) => {
    if (op === 'relu') reluPasses++;
    unary(op, a, out);
  };
  const fused = await run(true);
  t.equal(reluPasses, 0, 'fused: no separate ReLU pass');
  const plain = await run(false);
  t.equal(reluPasses, 3, 'unfused: three ReLU passes');
  be.unary = unary;
  t.same(fused.out, plain.out, 'same outputs');
  for (let i = 0; i < fused.grads.length; i++) {
    const err = Math.max(...fused.grads[i].map((g, j) => Math.abs(g - plain.grads[i][j])));
    t.ok(err < 1e-5, `parameter ${i} gradient differs by ${err}`);
  }
  net.dispose();
});

t.test('Sequential fuses BatchNorm2d (→ ReLU) → MaxPool2d while training, with the same forward, gradients and running stats', async (t) => {
  const rng = new Rng(11);
  const net = new Sequential(be, [
    new Conv2d(be, 2, 3, 3, { pad: 1, rng }),
    new BatchNorm2d(be, 3),
    new ReLU(be),
    new MaxPool2d(be, 2),
    new Conv2d(be, 3, 4, 3, { pad: 1, rng }),
    new BatchNorm2d(be, 4),
    new MaxPool2d(be, 3, 2), // no ReLU, overlapping windows
    new Flatten(be),
    new Linear(be, 4, 5, { rng }),
  ]);
  // x with a gradient: the first block is not the fused first layer (convBatchNormMaxPool2d, below)
  const x = randn(be, [3, 2, 7, 7], rng, { requiresGrad: true });
  const run = async (fuse: boolean) => ({
    ...(await stepWithFusion(net, x, fuse)),
    tracked: [1, 5].map((i) => (net.at(i) as BatchNorm2d).numBatchesTracked),
  });
  let fusedCalls = 0;
  let poolCalls = 0;
  const fusedKernel = be.batchNormMaxPoolTrain.bind(be);
  const poolKernel = be.maxPool2d.bind(be);
  be.batchNormMaxPoolTrain = (...a: Parameters<typeof fusedKernel>) => { fusedCalls++; fusedKernel(...a); };
  be.maxPool2d = (...a: Parameters<typeof poolKernel>) => { poolCalls++; poolKernel(...a); };
  const fused = await run(true);
  t.same([fusedCalls, poolCalls], [2, 0], 'fused: both batch norms run with their pools, no separate pool');
  const plain = await run(false);
  t.same([fusedCalls, poolCalls], [2, 2], 'unfused: two separate pools');
  be.batchNormMaxPoolTrain = fusedKernel;
  be.maxPool2d = poolKernel;
  const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, j) => Math.abs(v - b[j])));
  t.ok(maxDiff(fused.out, plain.out) < 1e-5, 'same outputs');
  for (let i = 0; i < fused.grads.length; i++) t.ok(maxDiff(fused.grads[i], plain.grads[i]) < 1e-4, `parameter ${i} gradient`);
  // the running statistics were updated once per training forward, by either path
  t.same(fused.tracked, [1, 1]);
  t.same(plain.tracked, [2, 2]);
  net.eval();
  const evalOut = noGrad(() => net.forward(x));
  t.same(evalOut.shape, [3, 5], 'eval mode takes the unfused (folded) path');
  evalOut.dispose();
  net.dispose();
});

/** The seed CNN's first block twice over (a first layer whose input is data, then a block whose
 *  input has a gradient) and a classifier, on `backend`, from the same seed. */
function firstLayerNet(backend: Backend): Sequential {
  const rng = new Rng(13);
  return new Sequential(backend, [
    new Conv2d(backend, 1, 4, 3, { pad: 1, rng }),
    new BatchNorm2d(backend, 4),
    new ReLU(backend),
    new MaxPool2d(backend, 2),
    new Conv2d(backend, 4, 3, 3, { pad: 1, rng }),
    new BatchNorm2d(backend, 3),
    new MaxPool2d(backend, 2),
    new Flatten(backend),
    new Linear(backend, 12, 5, { rng }),
  ]);
}

/** Counts calls of the fused first-layer kernels and of the unfused batch norm + pool (the second
 *  block's) on `backend` while fn runs. */
async function countFirstLayerCalls<T>(backend: Backend, fn: () => Promise<T>): Promise<{ result: T; train: number; backward: number }> {
  const train = backend.convBatchNormMaxPoolTrain.bind(backend);
  const backward = backend.convBatchNormMaxPoolBackward.bind(backend);
  const calls = { train: 0, backward: 0 };
  backend.convBatchNormMaxPoolTrain = (...a: Parameters<typeof train>) => { calls.train++; train(...a); };
  backend.convBatchNormMaxPoolBackward = (...a: Parameters<typeof backward>) => { calls.backward++; backward(...a); };
  try {
    return { result: await fn(), ...calls };
  } finally {
    backend.convBatchNormMaxPoolTrain = train;
    backend.convBatchNormMaxPoolBackward = backward;
  }
}

const cpu = await createCpuBackend().catch((err: unknown) => err as Error);

/** ref composes the fused op from its unfused kernels and so does not claim it
 *  (fusesConvBatchNormMaxPool); this one does, to check the op's values through Sequential there. */
class FusingRef extends RefBackend {
  fusesConvBatchNormMaxPool(): boolean {
    return true;
  }
}

t.test('ref does not claim the fused first layer: Sequential keeps the unfused layers there', async (t) => {
  const net = firstLayerNet(be);
  const x = randn(be, [3, 1, 9, 10], new Rng(14));
  const calls = await countFirstLayerCalls(be, () => stepWithFusion(net, x, true));
  t.same([calls.train, calls.backward], [0, 0]);
  x.dispose();
  net.dispose();
});

for (const name of ['ref', 'cpu'] as const) {
  const backend = name === 'ref' ? new FusingRef() : cpu;
  const skip = backend instanceof Error ? `cpu addon not built: ${backend.message}` : false;
  t.test(`${name}: Sequential runs a first Conv2d → BatchNorm2d → ReLU → MaxPool2d as one fused op while training, same loss and gradients`, { skip }, async (t) => {
    if (backend instanceof Error) return;
    const net = firstLayerNet(backend);
    const x = randn(backend, [3, 1, 9, 10], new Rng(14));
    const fused = await countFirstLayerCalls(backend, () => stepWithFusion(net, x, true));
    t.same([fused.train, fused.backward], [1, 1], 'fused: the first block ran as convBatchNormMaxPoolTrain and its backward');
    const plain = await countFirstLayerCalls(backend, () => stepWithFusion(net, x, false));
    t.same([plain.train, plain.backward], [0, 0], 'fuse off: not used');
    const rel = (a: number[], b: number[]) => Math.max(...a.map((v, j) => Math.abs(v - b[j]))) / Math.max(1e-6, ...b.map(Math.abs));
    t.ok(rel(fused.result.out, plain.result.out) < 1e-5, `same outputs (${rel(fused.result.out, plain.result.out).toExponential(1)})`);
    const names = net.namedParameters().map(([n]) => n);
    const maxAbs = (a: number[]) => Math.max(...a.map(Math.abs));
    for (const [i, n] of names.entries()) {
      if (n === '0.bias' || n === '4.bias') {
        // a convolution's bias before a training batch norm: its gradient is zero (the batch mean
        // cancels it), computed as rounding noise by the unfused kernels, next to the weight's
        const noise = (g: number[]) => maxAbs(g) / maxAbs(plain.result.grads[i - 1]);
        if (n === '0.bias') t.same(fused.result.grads[i], [0, 0, 0, 0], `${n}: exactly zero when fused`);
        else t.ok(noise(fused.result.grads[i]) < 1e-4, `${n}: rounding noise (${noise(fused.result.grads[i]).toExponential(1)})`);
        t.ok(noise(plain.result.grads[i]) < 1e-4, `${n}: rounding noise when unfused (${noise(plain.result.grads[i]).toExponential(1)})`);
      } else {
        const err = rel(fused.result.grads[i], plain.result.grads[i]);
        t.ok(err < 1e-4, `${n} gradient (${err.toExponential(1)})`);
      }
    }
    t.same([1, 5].map((i) => (net.at(i) as BatchNorm2d).numBatchesTracked), [2, 2], 'each path counts its batch');
    // an input that needs a gradient (e.g. a saliency map): the unfused path, and x gets its gradient
    const xg = randn(backend, [3, 1, 9, 10], new Rng(14), { requiresGrad: true });
    const withInputGrad = await countFirstLayerCalls(backend, () => stepWithFusion(net, xg, true));
    t.same([withInputGrad.train, withInputGrad.backward], [0, 0], 'x requiring a gradient: not fused');
    t.ok(xg.grad !== null, 'and x gets its gradient');
    t.ok(rel(withInputGrad.result.out, plain.result.out) < 1e-5, 'same outputs');
    // training mode without recording (grad disabled): the fused forward
    const noRecord = await countFirstLayerCalls(backend, async () => {
      const y = noGrad(() => net.forward(x));
      y.dispose();
    });
    // (the cpu has its kernel for one input channel only: the second block stays unfused there)
    const blocks = name === 'ref' ? 2 : 1;
    t.same([noRecord.train, noRecord.backward], [blocks, 0], `noGrad in training mode: no input needs a gradient, ${blocks} block(s) fused, no backward`);
    for (const v of [x, xg]) v.dispose();
    net.dispose();
  });
}

t.test('dropout: the step advances per training forward; same (seed, step) gives the same mask', async (t) => {
  const x = Tensor.full(be, [4, 64], 1);
  const d = new Dropout(be, 0.5, { seed: 42 });
  const first = await toF32(tidy(() => d.forward(x)));
  t.equal(d.step, 1);
  const second = await toF32(tidy(() => d.forward(x)));
  t.equal(d.step, 2);
  t.notSame(Array.from(first), Array.from(second), 'a new step, a new mask');
  d.step = 0;
  t.same(Array.from(await toF32(tidy(() => d.forward(x)))), Array.from(first), 'replaying step 0 gives its mask');
  t.ok(first.every((v) => v === 0 || v === 2), 'kept values scaled by 1/(1−p)');
  d.eval();
  t.same(Array.from(await toF32(tidy(() => d.forward(x)))), new Array(256).fill(1), 'eval is the identity');
  t.equal(d.step, 1, 'eval forwards do not advance the step');
  const d2 = new Dropout2d(be, 0.5, { seed: 3 });
  const planes = await toF32(tidy(() => d2.forward(Tensor.full(be, [2, 8, 3, 3], 1))));
  for (let plane = 0; plane < 16; plane++) {
    const vals = new Set(planes.subarray(plane * 9, plane * 9 + 9));
    t.equal(vals.size, 1, `plane ${plane} is all kept or all dropped`);
  }
});

t.test('BatchNorm1d trains on [N, C]; bad inputs are named', async (t) => {
  const bn = new BatchNorm1d(be, 3);
  const x = Tensor.fromArray(be, [1, 2, 3, 3, 4, 5], [2, 3]);
  const y = await toF32(tidy(() => bn.forward(x)));
  t.ok(Math.abs(y[0] + 1) < 1e-3 && Math.abs(y[3] - 1) < 1e-3, 'normalised with batch statistics');
  const rm = await toF32(bn.runningMean);
  t.ok(Math.abs(rm[0] - 0.2) < 1e-6, 'running mean moved by momentum 0.1');
  t.throws(() => bn.forward(Tensor.zeros(be, [2, 3, 2, 2])), /BatchNorm1d/);
  t.throws(() => tidy(() => bn.forward(Tensor.zeros(be, [1, 3]))), /more than 1 value/);
  t.throws(() => new BatchNorm2d(be, 3).forward(x), /BatchNorm2d/);
  bn.dispose();
});

t.test('loadStateDict: missing, mis-shaped and unexpected keys name the key', async (t) => {
  const m = new Sequential(be, [['fc', new Linear(be, 3, 2, { rng: new Rng(1) })], ['bn', new BatchNorm1d(be, 2)]]);
  const sd = await m.stateDict();
  const { ['fc.bias']: _dropped, ...missing } = sd;
  t.throws(() => m.loadStateDict(missing), /missing key "fc.bias"/);
  t.throws(() => m.loadStateDict({ ...sd, 'fc.weight': { dtype: 'f32', shape: [3, 2], data: new Float32Array(6) } }), /"fc.weight" has shape \[3, 2\] but the model expects \[2, 3\]/);
  t.throws(() => m.loadStateDict({ ...sd, extra: sd['fc.bias'] }), /unexpected keys "extra"/);
  m.loadStateDict({ ...sd, extra: sd['fc.bias'] }, { strict: false });
  t.pass('strict: false ignores unexpected keys');
  m.dispose();
});

t.test('eval under noGrad folds Conv → BatchNorm (→ ReLU) (→ MaxPool) into one convolution, same logits', async (t) => {
  const m = createSeedCnn(be, { seed: 4 });
  // give the batchnorms non-trivial running statistics
  for (let i = 0; i < 3; i++) tidy(() => m.train().forward(randn(be, [4, 1, 28, 28], new Rng(i))));
  m.eval();
  const x = randn(be, [3, 1, 28, 28], new Rng(8));
  let bnPasses = 0;
  let foldPasses = 0;
  const bnInference = be.batchNormInference.bind(be);
  be.batchNormInference = (...args: Parameters<typeof be.batchNormInference>) => {
    if (args[0].length > 64 * 9 * 32) bnPasses++; // a pass over activations
    else foldPasses++; // a weight fold
    bnInference(...args);
  };
  // the model's calls (ref's conv2dMaxPool is itself conv2d then maxPool2d: those are not counted)
  const calls = { maxPool2d: 0, conv2d: 0, conv2dMaxPool: 0 };
  let depth = 0;
  for (const k of ['maxPool2d', 'conv2d', 'conv2dMaxPool'] as const) {
    const original = be[k].bind(be) as (...a: unknown[]) => void;
    (be as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
      if (depth === 0) calls[k]++;
      depth++;
      try {
        original(...a);
      } finally {
        depth--;
      }
    };
  }
  const before = be.stats().buffers;
  const first = noGrad(() => m.forward(x));
  t.same(calls, { maxPool2d: 0, conv2d: 0, conv2dMaxPool: 2 }, 'both conv → bn → relu → pool blocks run as one conv2dMaxPool each');
  t.equal(be.stats().buffers, before + 1 + 4, 'outside tidy, only the output and the cached folded weights (2 per conv) stay allocated');
  t.equal(foldPasses, 4, 'the first forward folds both convolutions');
  first.dispose();
  const folded = noGrad(() => m.forward(x));
  t.equal(be.stats().buffers, before + 1 + 4, 'the cache is reused, not grown');
  t.equal(foldPasses, 4, 'no fold while the weights are unchanged');
  t.equal(bnPasses, 0, 'no batchnorm pass over activations');
  m.fuse = false;
  const plain = noGrad(() => m.forward(x));
  t.equal(bnPasses, 2, 'unfused: two batchnorm passes');
  t.same(calls, { maxPool2d: 2, conv2d: 2, conv2dMaxPool: 4 }, 'unfused: convolutions and pools apart');
  for (const k of ['maxPool2d', 'conv2d', 'conv2dMaxPool'] as const) delete (be as unknown as Record<string, unknown>)[k];
  m.fuse = true;
  be.batchNormInference = bnInference;
  const a = await toF32(folded);
  const b = await toF32(plain);
  const err = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
  t.ok(err < 1e-4, `folded and unfused logits differ by ${err}`);
  const recorded = tidy(() => m.forward(x));
  t.same(recorded.shape, [3, 10], 'with recording on, the plain path runs');
  // The cache must follow every change of its sources: running statistics (a training forward),
  // parameters (loadStateDict, an optimizer step).
  const agree = async (what: string): Promise<void> => {
    const f = noGrad(() => m.forward(x));
    m.fuse = false;
    const u = noGrad(() => m.forward(x));
    m.fuse = true;
    const [fa, ua] = [await toF32(f), await toF32(u)];
    t.ok(Math.max(...Array.from(fa, (v, i) => Math.abs(v - ua[i]))) < 1e-4, `after ${what}, the folded logits follow`);
    f.dispose();
    u.dispose();
  };
  const before2 = await toF32(folded);
  tidy(() => m.train().forward(randn(be, [4, 1, 28, 28], new Rng(99))));
  m.eval();
  await agree('a training forward (new running statistics)');
  const sd = await m.stateDict();
  const w = sd['conv2.weight']!;
  m.loadStateDict({ ...sd, 'conv2.weight': { dtype: 'f32', shape: w.shape, data: (w.data as Float32Array).map((v) => v * 1.5) } });
  await agree('loadStateDict');
  // gradients in eval mode: the running statistics stay as they are, only the step changes weights
  const opt = new Adam(m.parameters(), { lr: 0.05 });
  noGrad(() => m.forward(x)).dispose(); // the cache is current
  tidy(() => F.sum(m.forward(randn(be, [4, 1, 28, 28], new Rng(5)))).backward());
  opt.step();
  await agree('an optimizer step');
  const after = await toF32(noGrad(() => m.forward(x)));
  t.ok(after.some((v, i) => Math.abs(v - before2[i]) > 1e-3), 'and the logits did change');
  for (const o of [folded, plain, recorded, x]) o.dispose();
  const live = be.stats().buffers;
  m.dispose();
  t.ok(be.stats().buffers <= live - 4, 'dispose frees the cached folded weights too');
});
